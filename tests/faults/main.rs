//! The fault suite (README, "Faults, and what clients saw"). Each case is a real burst of
//! claims and redemptions over HTTP against the real `zhijian` binary while a fault
//! happens; every client retries timeouts, dropped connections and 503s with its own
//! `Idempotency-Key`. Each case ends with the ledger comparison and `zhijian check`.
//!
//! Run by `bash .ci/faults` (a step of `.ci/run`), which makes a PostgreSQL cluster of
//! the suite's own and a small tmpfs, then runs `cargo test --test faults -- --ignored`.
//! The plain `cargo test` leaves these out (they restart servers); without what they
//! need they fail, never skip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;
mod embedded;
mod ledger;
mod load;
mod rig;
mod scene;

use std::time::{Duration, Instant};

use load::{burst, report, seen_between, Plan};
use rig::{Instance, PgCluster, Redis};
use scene::{Scene, Size};

/// Two instances over a fresh database on the suite's PostgreSQL cluster and the
/// suite's own Redis.
async fn two_on_postgres(
    case: &str,
    pg: &PgCluster,
    redis: &Redis,
) -> (zhijian::config::Config, Instance, Instance) {
    let mut config = common::postgres_config(&pg.admin_url);
    config.redis_url = Some(redis.url());
    let a = Instance::start(&format!("{case}-a"), &config, &[]).await;
    let b = Instance::start(&format!("{case}-b"), &config, &[]).await;
    (config, a, b)
}

fn sleep_until(start: Instant, after: Duration) -> tokio::time::Sleep {
    tokio::time::sleep_until((start + after).into())
}

#[tokio::test]
#[ignore = "fault suite: run by `bash .ci/faults`"]
async fn postgres_restarted_mid_burst() {
    let pg = PgCluster::from_env();
    let redis = Redis::start();
    let (config, a, b) = two_on_postgres("pg-restart", &pg, &redis).await;
    let scene = Scene::build(a.base(), &config, Size::default()).await;
    // The first redemptions wait inside their transactions on rows the suite holds, so
    // the restart cuts transactions mid-way, not only idle connections.
    let cut: Vec<String> = scene.redemptions[..6]
        .iter()
        .map(|op| op.subject().to_owned())
        .collect();
    let rows = rig::RowLocks::hold(&config, &cut);

    let start = Instant::now();
    let clients = tokio::spawn(burst(scene.mixed(), vec![a.base(), b.base()], Plan::default()));
    sleep_until(start, Duration::from_millis(1500)).await;
    tokio::task::spawn_blocking(move || pg.restart()).await.unwrap();
    drop(rows);
    let done = clients.await.unwrap();

    report("PostgreSQL restarted mid-burst", &done);
    let seen = load::tally(&done);
    assert!(
        seen.contains_key("503 UNAVAILABLE"),
        "the restart was felt: {seen:?}"
    );
    ledger::settle(&config, &scene, &done);
}

#[tokio::test]
#[ignore = "fault suite: run by `bash .ci/faults`"]
async fn an_instance_killed_mid_burst_and_restarted() {
    let pg = PgCluster::from_env();
    let redis = Redis::start();
    let (config, mut a, b) = two_on_postgres("kill", &pg, &redis).await;
    let scene = Scene::build(b.base(), &config, Size::default()).await;

    let start = Instant::now();
    let clients = tokio::spawn(burst(scene.mixed(), vec![a.base(), b.base()], Plan::default()));
    sleep_until(start, Duration::from_millis(1500)).await;
    a.kill();
    sleep_until(start, Duration::from_millis(3000)).await;
    a.restart().await;
    let done = clients.await.unwrap();

    report("one of two instances SIGKILLed mid-burst, restarted", &done);
    assert!(
        load::tally(&done).contains_key("connection failed"),
        "the kill was felt"
    );
    ledger::settle(&config, &scene, &done);
}

#[tokio::test]
#[ignore = "fault suite: run by `bash .ci/faults`"]
async fn an_instance_paused_past_its_lock_ttl_while_the_other_redeems() {
    let pg = PgCluster::from_env();
    let redis = Redis::start();
    let (config, a, b) = two_on_postgres("pause", &pg, &redis).await;
    let size = Size {
        claimants: 0,
        stock: 1,
        codes: 12,
    };
    let scene = Scene::build(b.base(), &config, size).await;
    let vouchers: Vec<String> = scene
        .redemptions
        .iter()
        .map(|op| op.subject().to_owned())
        .collect();

    // Hold the vouchers' rows so A's redemptions stop inside their transactions, each
    // holding its Redis lock; then freeze A there.
    let rows = rig::RowLocks::hold(&config, &vouchers);
    let plan = Plan {
        pace: Duration::from_millis(2),
        ..Plan::default()
    };
    // A's clients, once timed out, retry at B: there they take A's keys over after 30 s
    // (the lease), and A's transactions, when A wakes, must lose.
    let route = load::Route {
        first: vec![a.base()],
        retries: vec![b.base()],
    };
    let at_a = tokio::spawn(load::burst_routed(scene.redemptions.clone(), route, plan));
    let locks = format!("{}lock:redeem:*", config.redis_key_prefix);
    let want = vouchers.len();
    let held = common::jobs::eventually(10, "A holds every redemption lock", || {
        let n = redis.keys(&locks).len();
        async move { (n == want).then_some(n) }
    })
    .await;
    a.pause();
    drop(rows);

    // Past the 5 s lock TTL the locks are gone; B redeems the same codes.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        redis.keys(&locks),
        Vec::<String>::new(),
        "A's locks expired while it was frozen"
    );
    let at_b = tokio::spawn(burst(scene.redemptions.clone(), vec![b.base()], plan));
    tokio::time::sleep(Duration::from_secs(27)).await;
    a.resume();
    let mut done = at_a.await.unwrap();
    done.extend(at_b.await.unwrap());

    // A's stalled transactions found their keys taken over and rolled back.
    let metrics = scene
        .app
        .client
        .get(format!("{}/metrics", a.base()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lost = metrics
        .lines()
        .find_map(|l| l.strip_prefix("zhijian_idempotency_leases_lost_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    println!("FAULT-REPORT pause: A froze 33 s holding {held} redemption locks; {lost} of its attempts lost their keys' leases");
    report(
        "an instance SIGSTOPped past its lock TTL while the other redeems, then SIGCONT",
        &done,
    );
    ledger::settle(&config, &scene, &done);
    assert!(lost >= 1.0, "a retry took a stalled attempt's key over");
}

#[tokio::test]
#[ignore = "fault suite: run by `bash .ci/faults`"]
async fn redis_flushed_then_killed_mid_burst() {
    let pg = PgCluster::from_env();
    let mut redis = Redis::start();
    let (config, a, b) = two_on_postgres("redis", &pg, &redis).await;
    let scene = Scene::build(a.base(), &config, Size::default()).await;

    let start = Instant::now();
    let plan = Plan {
        pace: Duration::from_millis(15),
        ..Plan::default()
    };
    let clients = tokio::spawn(burst(scene.mixed(), vec![a.base(), b.base()], plan));
    sleep_until(start, Duration::from_millis(1000)).await;
    redis.flushall();
    sleep_until(start, Duration::from_millis(2000)).await;
    redis.kill();
    let down = Instant::now();
    sleep_until(start, Duration::from_millis(3000)).await;
    // Both instances stay ready while Redis is down (README, "Probes").
    for instance in [&a, &b] {
        let ready: serde_json::Value = scene
            .app
            .client
            .get(format!("{}/readyz", instance.base()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            (ready["status"].as_str(), ready["redis"].as_str()),
            (Some("degraded"), Some("down"))
        );
    }
    sleep_until(start, Duration::from_millis(5000)).await;
    redis.restart();
    let up = Instant::now();
    let done = clients.await.unwrap();

    report("Redis FLUSHALL, then killed and restarted, mid-burst", &done);
    let redeemed: Vec<load::Done> = done
        .iter()
        .filter(|d| matches!(d.op, load::Op::Redeem { .. }))
        .cloned()
        .collect();
    let while_down = seen_between(&redeemed, down, up);
    println!("FAULT-REPORT redis: redemptions answered while Redis was down: {while_down:?}");
    assert!(
        while_down.get("201").is_some_and(|n| *n > 0),
        "redemptions went on on the database fence"
    );
    ledger::settle(&config, &scene, &done);
}
