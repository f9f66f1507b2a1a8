//! Builds the application: database, migrations, secrets, locks, HTTP server.
//! `Application::build` binds before it returns, so tests can ask for port 0.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::{bail, Context};
use diesel::prelude::*;
use rand::RngCore;

use crate::auth::gate::role_gate;
use crate::auth::jwt::JwtKeys;
use crate::auth::password::PasswordHasher;
use crate::auth::principal::Authenticator;
use crate::config::Config;
use crate::db::{self, schema::app_settings, DatabaseUrl, DbConnection, DbPool};
use crate::domain::voucher_code::VoucherKeys;
use crate::http::extract;
use crate::locks::Locks;
use crate::routes;
use crate::state::AppState;
use crate::telemetry::request_context;

pub struct Application {
    port: u16,
    server: Server,
    pool: DbPool,
}

/// How often expired idempotency records are purged.
const JANITOR_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Housekeeping that needs no request: forgetting idempotency keys past their 24 h.
async fn janitor(pool: DbPool) {
    loop {
        tokio::time::sleep(JANITOR_EVERY).await;
        let pool = pool.clone();
        let purged = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
            let mut conn = pool.get()?;
            Ok(crate::idempotency::purge_expired(
                &mut conn,
                crate::domain::now(),
            )?)
        })
        .await;
        match purged {
            Ok(Ok(n)) => tracing::info!(purged = n, "expired idempotency keys purged"),
            Ok(Err(e)) => tracing::warn!(error = %e, "idempotency purge failed"),
            Err(e) => tracing::warn!(error = %e, "idempotency purge panicked"),
        }
    }
}

/// Connects and migrates; runs on a blocking thread.
pub async fn prepare_database(url: &DatabaseUrl, pool_size: u32) -> anyhow::Result<DbPool> {
    let url = url.clone();
    tokio::task::spawn_blocking(move || {
        let pool = db::connect(&url, pool_size).context("cannot reach the database")?;
        let mut conn = pool.get().context("cannot reach the database")?;
        db::migrate(&mut conn)
            .map_err(anyhow::Error::msg)
            .context("migrations failed")?;
        Ok(pool)
    })
    .await?
}

/// `JWT_SECRET` if set; with SQLite and none set, one generated once and kept in the database.
fn resolve_jwt_secret(config: &Config, conn: &mut DbConnection) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &config.jwt_secret {
        if secret.len() < 32 {
            bail!("JWT_SECRET must be at least 32 bytes");
        }
        return Ok(secret.as_bytes().to_vec());
    }
    if config.database_url.is_postgres() {
        bail!("JWT_SECRET is required with PostgreSQL");
    }
    let mut fresh = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut fresh);
    let fresh = hex::encode(fresh);
    // Insert-if-absent, then read: whoever wrote first wins.
    let _ = diesel::insert_into(app_settings::table)
        .values((app_settings::key.eq("jwt_secret"), app_settings::value.eq(&fresh)))
        .execute(conn);
    let secret: String = app_settings::table
        .find("jwt_secret")
        .select(app_settings::value)
        .first(conn)?;
    Ok(secret.into_bytes())
}

/// `VOUCHER_KEY` if set; with SQLite and none set, one generated once and kept in a
/// file beside the database (never in it: a dump of the database alone must not be
/// enough to derive a single voucher code).
fn resolve_voucher_key(config: &Config) -> anyhow::Result<Vec<u8>> {
    if let Some(key) = &config.voucher_key {
        if key.len() < 32 {
            bail!("VOUCHER_KEY must be at least 32 bytes");
        }
        return Ok(key.as_bytes().to_vec());
    }
    let DatabaseUrl::Sqlite(db_path) = &config.database_url else {
        bail!("VOUCHER_KEY is required with PostgreSQL");
    };
    let path = format!("{db_path}.voucher-key");
    let mut fresh = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut fresh);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(mut file) => {
            std::io::Write::write_all(&mut file, hex::encode(fresh).as_bytes())
                .with_context(|| format!("cannot write {path}"))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("cannot create {path}")),
    }
    let key = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    if key.trim().len() < 32 {
        bail!("{path} holds no usable key");
    }
    Ok(key.trim().as_bytes().to_vec())
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = prepare_database(&config.database_url, config.db_pool_size).await?;
        let secret = {
            let (pool, config) = (pool.clone(), config.clone());
            tokio::task::spawn_blocking(move || resolve_jwt_secret(&config, &mut *pool.get()?)).await??
        };
        let locks = match &config.redis_url {
            Some(url) => Locks::redis(url, &config.redis_key_prefix)
                .await
                .context("cannot reach Redis")?,
            None => Locks::in_process(),
        };
        let hasher = tokio::task::spawn_blocking({
            let n = config.hash_concurrency;
            move || PasswordHasher::new(n)
        })
        .await?
        .map_err(anyhow::Error::msg)?;
        let openapi: serde_json::Value = serde_yaml::from_str(routes::ops::OPENAPI_YAML)?;
        let jwt = std::sync::Arc::new(JwtKeys::new(&secret));
        let authenticator = web::Data::new(Authenticator {
            jwt: jwt.clone(),
            pool: pool.clone(),
        });
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            locks,
            hasher,
            jwt,
            voucher_keys: VoucherKeys::new(&resolve_voucher_key(&config)?),
            limits: config.limits.clone(),
            openapi_json: openapi.to_string(),
        });

        let listener =
            TcpListener::bind(&config.bind).with_context(|| format!("cannot bind {}", config.bind))?;
        let port = listener.local_addr()?.port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(authenticator.clone())
                .app_data(extract::json_config())
                .app_data(extract::query_config())
                .app_data(extract::path_config())
                .wrap(from_fn(role_gate))
                .wrap(from_fn(request_context))
                .configure(routes::configure)
                .default_service(web::to(extract::not_found))
        })
        .workers(config.workers.max(1))
        // SIGTERM: stop accepting, let in-flight requests finish.
        .shutdown_timeout(30)
        .listen(listener)?
        .run();
        Ok(Self { port, server, pool })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        tokio::select! {
            served = self.server => served,
            () = janitor(self.pool) => Ok(()),
        }
    }
}
