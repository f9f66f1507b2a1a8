//! The embedded database's faults (a kill mid-burst, a full disk), and impatient clients
//! on both backends.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::Integer;

use crate::common;
use crate::ledger;
use crate::load::{self, burst, report, seen_between, Plan};
use crate::rig::{Instance, PgCluster, Redis, SmallDisk};
use crate::scene::{Scene, Size};

fn sqlite_at(path: &std::path::Path) -> zhijian::config::Config {
    let mut config = common::sqlite_config(&path.to_string_lossy());
    config.redis_url = None;
    config
}

#[tokio::test]
#[ignore = "fault suite: run by `bash .ci/faults`"]
async fn sqlite_killed_mid_burst_recovers_from_its_wal() {
    let dir = tempfile::tempdir().unwrap();
    let config = sqlite_at(&dir.path().join("zhijian.db"));
    let mut a = Instance::start("sqlite-kill", &config, &[]).await;
    let scene = Scene::build(a.base(), &config, Size::default()).await;

    let start = Instant::now();
    let clients = tokio::spawn(burst(scene.mixed(), vec![a.base()], Plan::default()));
    tokio::time::sleep_until((start + Duration::from_millis(1500)).into()).await;
    a.kill();
    tokio::time::sleep(Duration::from_secs(1)).await;
    a.restart().await;
    let done = clients.await.unwrap();

    report("SQLite: the process SIGKILLed mid-burst, restarted", &done);
    assert!(
        load::tally(&done).contains_key("connection failed"),
        "the kill was felt"
    );
    ledger::settle(&config, &scene, &done);
}

#[derive(QueryableByName)]
struct Checkpoint {
    #[diesel(sql_type = Integer)]
    busy: i32,
    #[diesel(sql_type = Integer)]
    log: i32,
}

/// Empties the WAL file (`wal_checkpoint(TRUNCATE)`), so that the next write needs new
/// space on the disk rather than reusing the file's old pages.
fn truncate_wal(path: &std::path::Path) {
    let mut conn = SqliteConnection::establish(&path.to_string_lossy()).unwrap();
    diesel::sql_query("PRAGMA busy_timeout = 5000")
        .execute(&mut conn)
        .unwrap();
    for _ in 0..100 {
        let done: Checkpoint = diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)")
            .get_result(&mut conn)
            .unwrap();
        if done.busy == 0 && done.log == 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the WAL could not be truncated");
}

#[tokio::test]
#[ignore = "fault suite: run by `bash .ci/faults`"]
async fn sqlite_disk_full_answers_503_and_recovers_when_space_returns() {
    let disk = SmallDisk::from_env();
    let path = disk.dir.join("zhijian.db");
    let config = sqlite_at(&path);
    let mut a = Instance::start("sqlite-disk-full", &config, &[]).await;
    let size = Size {
        claimants: 120,
        stock: 100,
        codes: 60,
    };
    let scene = Scene::build(a.base(), &config, size).await;
    truncate_wal(&path);
    disk.fill();

    let start = Instant::now();
    let plan = Plan {
        pace: Duration::from_millis(15),
        ..Plan::default()
    };
    let clients = tokio::spawn(burst(scene.mixed(), vec![a.base()], plan));
    tokio::time::sleep_until((start + Duration::from_millis(1500)).into()).await;
    disk.free();
    let freed = Instant::now();
    let done = clients.await.unwrap();

    report("SQLite: the disk full mid-burst, then space returns", &done);
    let while_full = seen_between(&done, start, freed);
    println!("FAULT-REPORT disk full: answers while the disk was full: {while_full:?}");
    assert!(
        while_full.get("503 UNAVAILABLE").is_some_and(|n| *n > 0),
        "a full disk is a 503: {while_full:?}"
    );
    // Nothing acknowledged is lost across a hard stop either.
    a.kill();
    a.restart().await;
    ledger::settle(&config, &scene, &done);
}

/// Clients that give up on an attempt after `patience` and retry with the same key, while
/// the service still works on the first attempt. The patience must be shorter than many
/// answers take (the case fails otherwise): PostgreSQL's one-statement claims answer well
/// within 40 ms.
async fn impatient(
    case: &str,
    config: &zhijian::config::Config,
    bases: Vec<String>,
    scene: &Scene,
    patience: Duration,
) {
    let plan = Plan {
        pace: Duration::from_millis(2),
        attempt_timeout: patience,
        ..Plan::default()
    };
    let done = burst(scene.mixed(), bases, plan).await;
    report(case, &done);
    let seen = load::tally(&done);
    assert!(
        seen.contains_key("timeout"),
        "clients gave up on attempts: {seen:?}"
    );
    ledger::settle(config, scene, &done);
}

#[tokio::test]
#[ignore = "fault suite: run by `bash .ci/faults`"]
async fn retries_with_the_same_key_on_postgres_make_one_voucher_and_one_redemption() {
    let pg = PgCluster::from_env();
    let redis = Redis::start();
    let mut config = common::postgres_config(&pg.admin_url);
    config.redis_url = Some(redis.url());
    let a = Instance::start("retries-pg-a", &config, &[]).await;
    let b = Instance::start("retries-pg-b", &config, &[]).await;
    let scene = Scene::build(a.base(), &config, Size::default()).await;
    let zhijian::db::DatabaseUrl::Postgres(url) = config.database_url.clone() else {
        panic!("a PostgreSQL configuration")
    };
    let writer = another_pg_writer(url, Duration::from_secs(3));
    impatient(
        "retries with the same key after 8 ms timeouts, while another process locks the audit trail against inserts for 100 ms of every 150 (PostgreSQL, two instances)",
        &config,
        vec![a.base(), b.base()],
        &scene,
        Duration::from_millis(8),
    )
    .await;
    writer.join().unwrap();
}

/// Another process's long transactions on PostgreSQL: it locks `audit_events` against
/// inserts (every claim and hand-over writes one) for 100 ms out of every 150 during
/// `lasting`, so attempts wait past the clients' patience however fast they are otherwise.
fn another_pg_writer(url: String, lasting: Duration) -> std::thread::JoinHandle<()> {
    use diesel::connection::SimpleConnection;
    std::thread::spawn(move || {
        let mut conn = diesel::PgConnection::establish(&url).unwrap();
        let until = Instant::now() + lasting;
        while Instant::now() < until {
            conn.batch_execute("BEGIN; LOCK TABLE audit_events IN SHARE ROW EXCLUSIVE MODE")
                .unwrap();
            std::thread::sleep(Duration::from_millis(100));
            conn.batch_execute("COMMIT").unwrap();
            std::thread::sleep(Duration::from_millis(50));
        }
    })
}

#[tokio::test]
#[ignore = "fault suite: run by `bash .ci/faults`"]
async fn retries_with_the_same_key_on_sqlite_make_one_voucher_and_one_redemption() {
    let dir = tempfile::tempdir().unwrap();
    let config = sqlite_at(&dir.path().join("zhijian.db"));
    let a = Instance::start("retries-sqlite", &config, &[]).await;
    let scene = Scene::build(a.base(), &config, Size::default()).await;
    let writer = another_writer(dir.path().join("zhijian.db"), Duration::from_secs(3));
    impatient(
        "retries with the same key after 40 ms timeouts, while another process takes SQLite's write lock for 100 ms of every 150 (SQLite)",
        &config,
        vec![a.base()],
        &scene,
        Duration::from_millis(40),
    )
    .await;
    writer.join().unwrap();
}

/// Another process writing to the same SQLite file: it takes the write lock for 100 ms
/// out of every 150 during `lasting`, so the service's writes wait for it (its busy
/// timeout) past the clients' patience. Without it a SQLite that answers within 40 ms
/// leaves the impatient clients nothing to retry.
fn another_writer(path: std::path::PathBuf, lasting: Duration) -> std::thread::JoinHandle<()> {
    use diesel::connection::SimpleConnection;
    std::thread::spawn(move || {
        let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy()).unwrap();
        conn.batch_execute("PRAGMA busy_timeout = 15000").unwrap();
        let until = Instant::now() + lasting;
        while Instant::now() < until {
            conn.batch_execute("BEGIN IMMEDIATE").unwrap();
            std::thread::sleep(Duration::from_millis(100));
            conn.batch_execute("COMMIT").unwrap();
            std::thread::sleep(Duration::from_millis(50));
        }
    })
}
