//! One benchmark for every hot path, each beside its anchor measured in the same run
//! (README, "Performance"; issue P1–P7):
//!
//!     bash bench/run            # all cases
//!     bash bench/run p1 p3      # some
//!
//! The service is the release binary in a process of its own on a fresh PostgreSQL
//! database (`BENCH_DATABASE_URL`, an administrative URL) with Redis
//! (`BENCH_REDIS_URL`); the anchors are pgbench scripts in `bench/`. Everything shares
//! this machine's cores: the generator's and the service's CPU are printed per case.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::cast_possible_wrap
)]

mod anchor;
mod cases;
mod load;
mod rows;
mod service;
mod world;

use std::sync::Arc;
use std::time::Duration;

use diesel::prelude::*;
use zhijian::db::{self, DatabaseUrl, DbPool};

use load::{closed_loop, closed_loop_keeping};
use service::Service;

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.into())
}

fn blocking<T: Send + 'static>(
    pool: &DbPool,
    f: impl FnOnce(&mut db::DbConnection) -> anyhow::Result<T> + Send + 'static,
) -> impl std::future::Future<Output = anyhow::Result<T>> {
    let pool = pool.clone();
    async move { tokio::task::spawn_blocking(move || f(&mut *pool.get()?)).await? }
}

/// `zhijian check` over the database: nothing oversold, no second claim or redemption.
fn check(url: &str) -> String {
    let bin = std::env::var("BENCH_BIN")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/zhijian").into());
    let out = std::process::Command::new(bin)
        .arg("check")
        .env("DATABASE_URL", url)
        .env("JWT_SECRET", world::SECRET)
        .env("VOUCHER_KEY", world::SECRET)
        .output();
    match out {
        Ok(o) if o.status.success() => "zhijian check: clean".into(),
        Ok(o) => format!("zhijian check FAILED: {}", String::from_utf8_lossy(&o.stdout)),
        Err(e) => format!("zhijian check did not run: {e}"),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let wanted: Vec<String> = std::env::args().skip(1).collect();
    let want = |case: &str| wanted.is_empty() || wanted.iter().any(|w| w == "all" || w == case);
    let admin_url = env(
        "BENCH_DATABASE_URL",
        "postgres://postgres@127.0.0.1:5432/postgres",
    );
    let redis_url = env("BENCH_REDIS_URL", "redis://127.0.0.1:6379");
    println!(
        "machine: {} cores, {}",
        std::thread::available_parallelism()?,
        cpu_model()
    );

    let hash = zhijian::auth::password::PasswordHasher::new(1)
        .map_err(anyhow::Error::msg)?
        .hash(world::PASSWORD.into())
        .await
        .map_err(|e| anyhow::anyhow!("hashing: {e:?}"))?;
    let name = format!("zj_bench_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::establish(&admin_url)?;
    drop_stale(&mut admin)?;
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin)?;
    let url = format!(
        "{}/{name}",
        admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(b, _)| b)
    );
    let result = run_all(&url, &redis_url, &hash, &want).await;
    if std::env::var_os("BENCH_KEEP_DB").is_some() {
        println!("kept the database: {url}");
    } else {
        diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut admin)?;
    }
    let rows = result?;
    println!("\n| case | measured | ratio | goal | |\n|---|---|---|---|---|");
    for r in &rows {
        let met = rows::goal_met(r.goal, r.ratio);
        println!(
            "| {} | {} | {:.2} | {} | {} |",
            r.case,
            r.what,
            r.ratio,
            r.goal,
            if met { "met" } else { "NOT met" }
        );
    }
    println!();
    for r in &rows {
        println!("{}: {}", r.case, r.detail);
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = diesel::sql_types::Text)]
    datname: String,
}

/// Databases an interrupted run left behind (one bench runs at a time).
fn drop_stale(admin: &mut PgConnection) -> anyhow::Result<()> {
    let stale: Vec<Name> =
        diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'zj_bench_%'").load(admin)?;
    for db in stale {
        diesel::sql_query(format!("DROP DATABASE \"{}\" WITH (FORCE)", db.datname)).execute(admin)?;
    }
    Ok(())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_default()
}

async fn run_all(
    url: &str,
    redis: &str,
    hash: &str,
    want: &dyn Fn(&str) -> bool,
) -> anyhow::Result<Vec<rows::Row>> {
    let service = Service::start(url, Some(redis), world::SECRET).await?;
    let pool = db::connect(&DatabaseUrl::Postgres(url.to_owned()), 2)?;
    let riders_n: usize = env("BENCH_RIDERS", "52000").parse()?;
    let hash_owned = hash.to_owned();
    let world = Arc::new(blocking(&pool, move |c| world::seed(c, riders_n, &hash_owned)).await?);
    let riders = Arc::new(world.riders.clone());
    let (pid, base) = (service.pid(), service.base.clone());
    println!("service RSS after start: {:.0} MB", service.rss_mb());

    let ceiling = closed_loop(64, usize::MAX, Duration::from_secs(3), pid, cases::health(&base)).await;
    println!(
        "generator alone (GET /healthz, 64 clients): {}",
        crate::load::describe(&ceiling)
    );

    // P1: claims at 64 clients; the codes they got feed P3 and P5.
    let claims_n = 20_000.min(riders.len() / 2);
    let w = world.clone();
    let a = blocking(&pool, move |c| world::campaign(c, &w, claims_n as i64)).await?;
    let p1 = closed_loop_keeping(
        64,
        claims_n,
        Duration::from_secs(120),
        pid,
        cases::claims(&base, &a, riders.clone(), 0),
        Some("code"),
    )
    .await;
    println!(
        "P1 service: {}; RSS now {:.0} MB; vouchers by path: {}",
        crate::load::describe(&p1),
        service.rss_mb(),
        service.metrics("zhijian_claim_paths_total").await?
    );
    let codes = Arc::new(p1.kept.clone());

    let mut p2 = None;
    if want("p2") {
        // ABBA: 16, 256, 256, 16 clients, each on a campaign of its own with riders not
        // seen before, so the drift of a shared machine and the tables' growth over the
        // run weigh on both sides alike; each side is the two phases pooled.
        let n = 8_000.min(riders.len().saturating_sub(claims_n + 50) / 4); // the last 50 sign in for P5
        let w = world.clone();
        let campaigns = blocking(&pool, move |c| {
            (0..4)
                .map(|_| world::campaign(c, &w, n as i64))
                .collect::<anyhow::Result<Vec<_>>>()
        })
        .await?;
        let mut phases = Vec::new();
        for (k, (clients, campaign)) in [16, 256, 256, 16].into_iter().zip(&campaigns).enumerate() {
            let make = cases::claims(&base, campaign, riders.clone(), claims_n + k * n);
            let run = closed_loop(clients, n, Duration::from_secs(120), pid, make).await;
            println!("P2 phase {} at {clients}: {}", k + 1, crate::load::describe(&run));
            phases.push(run);
        }
        let Ok([a1, b1, b2, a2]) = <[crate::load::Run; 4]>::try_from(phases) else {
            anyhow::bail!("P2 ran other than four phases");
        };
        let (at16, at256) = (a1.merge(a2), b1.merge(b2));
        println!(
            "P2 at 16: {}\nP2 at 256: {}",
            crate::load::describe(&at16),
            crate::load::describe(&at256)
        );
        p2 = Some((at16, at256));
    }

    let split = codes.len() * 3 / 5;
    let mut p3 = None;
    if want("p3") {
        let mine = Arc::new(codes[..split].to_vec());
        let run = closed_loop(
            64,
            mine.len(),
            Duration::from_secs(120),
            pid,
            cases::redemptions(&base, &world.counters, world.station.as_str(), mine),
        )
        .await;
        println!("P3 service: {}", crate::load::describe(&run));
        p3 = Some(run);
    }
    // P4 and the claim and eligibility anchors share a campaign with stock left, which
    // nobody holds a voucher of yet (P1's campaign is sold out by now).
    let w = world.clone();
    let shared = blocking(&pool, move |c| world::campaign(c, &w, 10_000_000)).await?;
    let mut p4 = None;
    if want("p4") {
        let run = closed_loop(
            64,
            usize::MAX,
            Duration::from_secs(8),
            pid,
            cases::eligibility(&base, &shared, riders.clone()),
        )
        .await;
        println!("P4 service: {}", crate::load::describe(&run));
        p4 = Some(run);
    }
    let mut p5 = None;
    if want("p5") {
        let rest = &codes[split..];
        let (calm, stormy) = rest.split_at(rest.len() / 2);
        let redeem = |codes: &[String]| {
            cases::redemptions(
                &base,
                &world.counters,
                world.station.as_str(),
                Arc::new(codes.to_vec()),
            )
        };
        let before = closed_loop(16, calm.len(), Duration::from_secs(6), pid, redeem(calm)).await;
        let storm = cases::Storm::start(&base, &riders[riders.len() - 50..], 50);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let during = closed_loop(16, stormy.len(), Duration::from_secs(6), pid, redeem(stormy)).await;
        let logins = storm.stop().await;
        println!(
            "P5 calm: {}\nP5 storm: {}\nP5 sign-ins during the storm: {logins:?}",
            crate::load::describe(&before),
            crate::load::describe(&during)
        );
        p5 = Some((before, during, logins));
    }
    if want("refresh") {
        let n = 12_000.min(riders.len());
        let tokens = blocking(&pool, move |c| world::refresh_tokens(c, n)).await?;
        let run = cases::refreshes(&base, pid, tokens).await;
        let per = |cores: f64| cores / run.rate() * 1000.0;
        println!(
            "refresh (not a goal): {}; a refresh: service {:.2} ms, PostgreSQL {:.2} ms of CPU",
            crate::load::describe(&run),
            per(run.service_cores),
            per(run.database_cores)
        );
    }
    let mut p7 = None;
    if want("p7") {
        // A fresh instance: the connections' own cost, not the high-water mark the
        // runs above left in the allocator (printed beside it).
        let after_load = service.rss_mb();
        let fresh = Service::start(url, Some(redis), world::SECRET).await?;
        let idle = fresh.rss_mb();
        let addr = fresh.base.trim_start_matches("http://").to_owned();
        let mut open = cases::open_connections(&addr, 10_000).await;
        let first = fresh.rss_mb();
        let alive = cases::ping_all(&mut open).await;
        let peak = first.max(fresh.rss_mb());
        println!(
            "P7: {} connections opened, {alive} answered again; RSS of a fresh instance {idle:.0} MB, with them {peak:.0} MB; the loaded instance's RSS {after_load:.0} MB",
            open.len()
        );
        p7 = Some((open.len(), alive, idle, peak, after_load));
        drop(open);
    }
    let checked = check(url);
    println!("{checked}");
    drop(service);

    anyhow::ensure!(checked.ends_with("clean"), "{checked}");
    let measured = rows::Measured {
        claims_n,
        shared,
        checked,
        p1,
        p2,
        p3,
        p4,
        p5,
        p7,
    };
    rows::with_anchors(url, &pool, &world, hash, want, measured).await
}
