//! Claim throughput on PostgreSQL: the real service over HTTP with N concurrent clients,
//! then the same SQL straight from pgbench, on the same database.
//!
//!     cargo run --release --example claim_bench
//!
//! Environment: BENCH_DATABASE_URL (an administrative URL; a fresh database is created),
//! BENCH_CLAIMS (default 20000), BENCH_CONCURRENCY (default 64), BENCH_PGBENCH_SECS (15).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use tokio::sync::Mutex;
use zhijian::auth::jwt::JwtKeys;
use zhijian::auth::sessions;
use zhijian::config::Config;
use zhijian::db::{self, DatabaseUrl, DbConnection};
use zhijian::domain::campaigns::{self, CampaignFields, CampaignStatus};
use zhijian::domain::ids::{StationId, UserId};
use zhijian::domain::org::{self, NewStation, NewUnion, UnionKind};
use zhijian::domain::phone::Phone;
use zhijian::domain::profile::{Occupation, Role};
use zhijian::domain::users::{self, NewUser};
use zhijian::startup::Application;

const SECRET: &str = "bench-secret-that-is-at-least-32-bytes-long";
const HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$3zDUK3bZ9pG2MEqCjmy2KA3x6vI4cTGiTSRaQtHLMmY";

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A published campaign with `stock` units and `workers` riders signed in.
fn seed(conn: &mut DbConnection, stock: i64, workers: usize) -> anyhow::Result<(String, Vec<String>)> {
    let now = zhijian::domain::now();
    let admin = NewUser::new(
        Phone::parse("13900000000").unwrap(),
        HASH.into(),
        "admin".into(),
        Role::PlatformAdmin,
        now,
    );
    users::create(conn, &admin)?;
    let union = org::create_union(
        conn,
        NewUnion {
            name: "路桥区总工会".into(),
            parent: None,
            kind: UnionKind::District,
            region_code: "331004".into(),
            onsite_auto_approve: false,
            created_by: &admin.id,
        },
        now,
    )?;
    let station = NewStation {
        id: StationId::generate(),
        union_id: union.id.clone(),
        name: "驿站".into(),
        address: None,
        lat: None,
        lng: None,
        open_24h: true,
        opening_hours: None,
        created_at: now,
    };
    org::create_station(conn, &station)?;
    let rules =
        r#"[{"type":"occupation_in","values":["food_delivery"]},{"type":"region_in","values":["3310"]}]"#;
    let fields = CampaignFields {
        title: "bench".into(),
        item_name: "礼包".into(),
        description: None,
        total_stock: stock,
        per_worker_limit: 1,
        claim_starts_at: now - chrono::Duration::hours(1),
        claim_ends_at: now + chrono::Duration::days(1),
        redeem_until: now + chrono::Duration::days(7),
        rules: rules.into(),
        voucher_valid_days: None,
        mode: Default::default(),
        fulfilment: Default::default(),
    };
    let campaign = campaigns::create(conn, &union.id, &fields, &[station.id], None, &admin.id, now)?;
    campaigns::transition(
        conn,
        &campaign.id,
        &[CampaignStatus::Draft],
        CampaignStatus::Published,
        now,
    )?;
    let jwt = JwtKeys::new(SECRET.as_bytes());
    let mut tokens = Vec::with_capacity(workers);
    for i in 0..workers {
        let mut user = NewUser::new(
            Phone::parse(&format!("137{i:08}")).unwrap(),
            HASH.into(),
            "骑手".into(),
            Role::Worker,
            now,
        );
        user.occupation = Some(Occupation::FoodDelivery);
        user.region_code = Some("331004".into());
        users::create(conn, &user)?;
        let (session, _) = sessions::start(conn, &user.id, now, chrono::Duration::days(30))?;
        tokens.push(jwt.issue(&user.id, Role::Worker, &session)?);
    }
    Ok((campaign.id.to_string(), tokens))
}

/// pgbench's own riders and campaign: `pgb-<n>` with sessions `pgb-s-<n>`.
fn seed_pgbench(conn: &mut DbConnection, users: usize, admin: &UserId) -> anyhow::Result<String> {
    let now = zhijian::domain::now();
    diesel::sql_query(format!(
        "INSERT INTO users (id, phone, password_hash, name, role, occupation, region_code, occupation_verified, hardship_archived, created_at, updated_at)
         SELECT 'pgb-' || n, '136' || lpad(n::text, 8, '0'), '{HASH}', '骑手', 'worker', 'food_delivery', '331004', false, false, now(), now()
         FROM generate_series(1, {users}) n"
    ))
    .execute(conn)?;
    diesel::sql_query(format!("INSERT INTO sessions (id, user_id, created_at) SELECT 'pgb-s-' || n, 'pgb-' || n, now() FROM generate_series(1, {users}) n"))
        .execute(conn)?;
    let union: String = zhijian::db::schema::unions::table
        .select(zhijian::db::schema::unions::id)
        .first(conn)?;
    let fields = CampaignFields {
        title: "pgbench".into(),
        item_name: "礼包".into(),
        description: None,
        total_stock: 10_000_000,
        per_worker_limit: 1,
        claim_starts_at: now - chrono::Duration::hours(1),
        claim_ends_at: now + chrono::Duration::days(1),
        redeem_until: now + chrono::Duration::days(7),
        rules: "[]".into(),
        voucher_valid_days: None,
        mode: Default::default(),
        fulfilment: Default::default(),
    };
    let union = zhijian::domain::ids::UnionId::parse(&union).unwrap();
    Ok(campaigns::create(conn, &union, &fields, &[], None, admin, now)?
        .id
        .to_string())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let admin_url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let claims: usize = env("BENCH_CLAIMS", 20_000);
    let concurrency: usize = env("BENCH_CONCURRENCY", 64);
    let pgbench_secs: u64 = env("BENCH_PGBENCH_SECS", 15);

    let name = format!("zj_bench_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::establish(&admin_url)?;
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin)?;
    let url = format!(
        "{}/{name}",
        admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(base, _)| base)
    );

    let mut config = Config::from_env().map_err(anyhow::Error::msg)?;
    config.database_url = DatabaseUrl::Postgres(url.clone());
    config.jwt_secret = Some(SECRET.into());
    config.voucher_key = Some(SECRET.into());
    config.bind = "127.0.0.1:0".into();
    let app = Application::build(config.clone()).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());

    let pool = db::connect(&config.database_url, 2)?;
    let (campaign, tokens) = {
        let pool = pool.clone();
        tokio::task::spawn_blocking(move || seed(&mut *pool.get()?, claims as i64, claims)).await??
    };
    println!(
        "service: {} workers, pool {}, {claims} riders claiming {claims} units with {concurrency} clients",
        config.workers, config.db_pool_size
    );

    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let queue = Arc::new(Mutex::new(tokens));
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (queue, client, url) = (
                queue.clone(),
                client.clone(),
                format!("{base}/api/v1/campaigns/{campaign}/claims"),
            );
            tokio::spawn(async move {
                let mut seen = Vec::new();
                loop {
                    let Some(token) = queue.lock().await.pop() else {
                        break;
                    };
                    let t = Instant::now();
                    let status = client
                        .post(&url)
                        .bearer_auth(token)
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                        .unwrap_or(0);
                    seen.push((status, t.elapsed()));
                }
                seen
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.extend(task.await?);
    }
    let elapsed = started.elapsed();
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    let mut latencies: Vec<Duration> = results.iter().map(|(_, d)| *d).collect();
    latencies.sort();
    println!(
        "service:  {created}/{claims} claims succeeded in {:.2} s = {:.0} claims/s; latency p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
        elapsed.as_secs_f64(),
        created as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.95),
        percentile(&latencies, 0.99)
    );
    let remaining: i64 = tokio::task::spawn_blocking({
        let pool = pool.clone();
        let id = zhijian::domain::ids::CampaignId::parse(&campaign).unwrap();
        move || campaigns::claimable(&mut pool.get().unwrap(), &id)
    })
    .await??;
    println!(
        "service:  remaining stock after the run: {remaining} (oversold: {})",
        created as i64 + remaining != claims as i64
    );

    let pgbench_users = 200_000;
    let admin_id: UserId = zhijian::db::schema::users::table
        .filter(zhijian::db::schema::users::role.eq("platform_admin"))
        .select(zhijian::db::schema::users::id)
        .first(&mut pool.get()?)?;
    let pgb_campaign = {
        let pool = pool.clone();
        tokio::task::spawn_blocking(move || seed_pgbench(&mut *pool.get()?, pgbench_users, &admin_id))
            .await??
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/claim.sql");
    let out = std::process::Command::new("pgbench")
        .args([
            "-n",
            "-M",
            "prepared",
            "-c",
            &concurrency.to_string(),
            "-j",
            "2",
            "-T",
            &pgbench_secs.to_string(),
        ])
        .args([
            "-D",
            &format!("campaign={pgb_campaign}"),
            "-D",
            &format!("users={pgbench_users}"),
            "-f",
            script,
            &url,
        ])
        .output();
    match out {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            for line in text.lines().filter(|l| {
                l.starts_with("tps")
                    || l.contains("latency average")
                    || l.starts_with("number of transactions actually")
            }) {
                println!("pgbench:  {line}");
            }
        }
        Ok(out) => println!("pgbench failed: {}", String::from_utf8_lossy(&out.stderr)),
        Err(e) => println!("pgbench not available: {e}"),
    }
    drop(pool);
    // The run's database is scratch: drop it (FORCE ends the service's idle connections).
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut admin)?;
    Ok(())
}
