//! Builds the application: database, migrations, secrets, locks, HTTP server.
//! `Application::build` binds before it returns, so tests can ask for port 0.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{from_fn, DefaultHeaders, NormalizePath, TrailingSlash};
use actix_web::{web, App};
use anyhow::Context;

use crate::auth::jwt::JwtKeys;
use crate::auth::password::PasswordHasher;
use crate::auth::principal::Authenticator;
use crate::auth::session_cache::SessionCache;
use crate::auth::session_listener;
use crate::config::Config;
use crate::db::{self, DatabaseUrl, DbConnection, DbPool};
use crate::domain::civil;
use crate::domain::voucher_code::VoucherKeys;
use crate::http::extract;
use crate::keys::{self, Secret};
use crate::locks::Locks;
use crate::routes;
use crate::state::AppState;
use crate::telemetry::request_context;

pub struct Application {
    port: u16,
    server: Server,
    pool: DbPool,
    jobs: crate::jobs::JobsConfig,
    voucher_keys: VoucherKeys,
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

/// Connects and migrates; runs on a blocking thread. A new SQLite file is created 0600.
pub async fn prepare_database(url: &DatabaseUrl, pool_size: u32) -> anyhow::Result<DbPool> {
    prepare_observed(url, pool_size, None).await
}

/// `prepare_database` with the pool's checkouts reported to `events` (the metrics).
async fn prepare_observed(
    url: &DatabaseUrl,
    pool_size: u32,
    events: Option<std::sync::Arc<dyn db::WaitEvents>>,
) -> anyhow::Result<DbPool> {
    let url = url.clone();
    tokio::task::spawn_blocking(move || {
        if let DatabaseUrl::Sqlite(path) = &url {
            keys::protect_sqlite_files(path)?;
        }
        let pool = db::connect_observed(&url, pool_size, events).context("cannot reach the database")?;
        let mut conn = pool.get().context("cannot reach the database")?;
        db::migrate(&mut conn)
            .map_err(anyhow::Error::msg)
            .context("migrations failed")?;
        Ok(pool)
    })
    .await?
}

/// Both secrets, resolved and checked against the fingerprints the database recorded.
fn secrets(config: &Config, conn: &mut DbConnection) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    if let DatabaseUrl::Sqlite(path) = &config.database_url {
        keys::move_legacy_jwt_secret(conn, path)?;
    }
    let jwt = keys::resolve(config, Secret::JwtSecret)?;
    let voucher = keys::resolve(config, Secret::VoucherKey)?;
    // Both are checked, so an operator with two wrong keys learns of both at once.
    match (
        keys::check(conn, Secret::JwtSecret, &jwt),
        keys::check(conn, Secret::VoucherKey, &voucher),
    ) {
        (Ok(()), Ok(())) => Ok((jwt, voucher)),
        (Err(e), Ok(())) | (Ok(()), Err(e)) => Err(e),
        (Err(a), Err(b)) => Err(anyhow::anyhow!("{a}\n{b}")),
    }
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        civil::set_zone(config.time_zone);
        let metrics = crate::metrics::Metrics::default();
        let events = Some(metrics.pool_events());
        let pool = prepare_observed(&config.database_url, config.db_pool_size, events).await?;
        let (secret, voucher_key) = {
            let (pool, config) = (pool.clone(), config.clone());
            tokio::task::spawn_blocking(move || secrets(&config, &mut *pool.get()?)).await??
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
        let sessions = SessionCache::new();
        if let DatabaseUrl::Postgres(url) = &config.database_url {
            session_listener::spawn(url.clone(), &sessions).context("cannot start the session listener")?;
        }
        let authenticator = web::Data::new(Authenticator {
            jwt: jwt.clone(),
            pool: pool.clone(),
            sessions,
            checks: metrics.session_checks.clone(),
        });
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            locks,
            hasher,
            jwt,
            voucher_keys: VoucherKeys::new(&voucher_key),
            limits: config.limits.clone(),
            own_budgets: crate::locks::MemoryLocks::default(),
            trusted_proxies: config.trusted_proxies.clone(),
            webhook_allow_private: config.jobs.webhook_allow_private,
            openapi_json: openapi.to_string(),
            web_dir: config.web_dir.clone(),
            allocation_plan: config.allocation_plan(),
            metrics,
            metrics_token: config.metrics_token.clone(),
            open_campaigns: std::sync::Arc::new(crate::app::open_campaigns::OpenCampaigns::new(
                config.database_url.is_postgres(),
            )),
        });
        crate::domain::audit::use_key(&state.voucher_keys);

        let listener =
            TcpListener::bind(&config.bind).with_context(|| format!("cannot bind {}", config.bind))?;
        let port = listener.local_addr()?.port();
        let server = crate::server::serve(listener, config.workers.max(1), move || {
            App::new()
                .app_data(state.clone())
                .app_data(authenticator.clone())
                .app_data(extract::path_config())
                .wrap(from_fn(crate::http::observe::record))
                .wrap(from_fn(request_context))
                // Doubled slashes name the same route as single ones.
                .wrap(NormalizePath::new(TrailingSlash::MergeOnly))
                .wrap(
                    DefaultHeaders::new()
                        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                        // Answers carry tokens, codes and personal data; the few
                        // public ones (health, the spec) lose nothing by not being cached.
                        .add((header::CACHE_CONTROL, "no-store")),
                )
                .configure(routes::configure)
                .default_service(web::to(extract::not_found))
        })?;
        Ok(Self {
            port,
            server,
            pool,
            jobs: crate::jobs::JobsConfig {
                allocation: config.allocation_plan(),
                ..config.jobs.clone()
            },
            voucher_keys: VoucherKeys::new(&voucher_key),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        tokio::select! {
            served = self.server => served,
            () = janitor(self.pool.clone()) => Ok(()),
            () = crate::jobs::run(self.pool, self.jobs, self.voucher_keys) => Ok(()),
        }
    }
}
