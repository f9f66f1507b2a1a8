//! The flash claim: no oversell, one voucher per worker, idempotent retries.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use std::collections::HashSet;

use common::campaigns::courier_rules;
use common::*;
use futures_util::future::join_all;
use serde_json::{json, Value};

#[tokio::test]
async fn a_burst_of_300_claimants_on_200_units_gets_exactly_200_vouchers() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 200).await;
    let riders = app.riders(300).await;

    let claims = riders.iter().map(|r| app.claim(&campaign, &r.access));
    let responses = join_all(claims).await;
    let mut created = Vec::new();
    let mut sold_out = 0;
    for resp in responses {
        match resp.status().as_u16() {
            201 => created.push(resp.json::<Value>().await.unwrap()),
            409 => {
                assert_problem(resp, 409, "SOLD_OUT").await;
                sold_out += 1;
            }
            other => panic!("unexpected {other}: {}", resp.text().await.unwrap()),
        }
    }
    assert_eq!(created.len(), 200);
    assert_eq!(sold_out, 100);
    let codes: HashSet<&str> = created.iter().map(|v| v["code"].as_str().unwrap()).collect();
    assert_eq!(codes.len(), 200, "every code is different");

    let stats = app.stats(&campaign, &w.luqiao_admin.access).await;
    assert_eq!(stats["claimed"], 200);
    assert_eq!(stats["issued_unredeemed"], 200);
    assert_eq!(stats["remaining"], 0);
    let listed: Value = app
        .get_auth(&format!("/api/v1/campaigns/{campaign}"), &riders[0].access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["remaining"], 0);
}

#[tokio::test]
async fn one_worker_firing_20_claims_at_once_gets_one_voucher() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 50).await;
    let rider = app.riders(1).await.remove(0);
    let responses = join_all((0..20).map(|_| app.claim(&campaign, &rider.access))).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");

    let wallet: Value = app.wallet(&rider.access).await;
    assert_eq!(wallet["items"].as_array().unwrap().len(), 1);
    let again = assert_problem(app.claim(&campaign, &rider.access).await, 409, "ALREADY_CLAIMED").await;
    assert_eq!(again["voucher_id"], wallet["items"][0]["id"]);
    assert_eq!(
        app.stats(&campaign, &w.luqiao_admin.access).await["remaining"],
        49
    );
}

#[tokio::test]
async fn a_retried_claim_with_the_same_key_replays_the_first_answer() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 10).await;
    let other = app.luqiao_campaign(&w, 10).await;
    let rider = app.riders(1).await.remove(0);
    let first = app.claim_with_key(&campaign, &rider.access, "claim-1").await;
    assert_eq!(first.status().as_u16(), 201);
    let first: Value = first.json().await.unwrap();
    let replay = app.claim_with_key(&campaign, &rider.access, "claim-1").await;
    assert_eq!(replay.status().as_u16(), 201);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(replay.json::<Value>().await.unwrap(), first);

    // The same key for another request is refused; a new key tells the truth.
    assert_problem(
        app.claim_with_key(&other, &rider.access, "claim-1").await,
        422,
        "IDEMPOTENCY_KEY_REUSED",
    )
    .await;
    assert_problem(
        app.claim_with_key(&campaign, &rider.access, "claim-2").await,
        409,
        "ALREADY_CLAIMED",
    )
    .await;
    let wallet: Value = app.wallet(&rider.access).await;
    assert_eq!(wallet["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn concurrent_retries_with_one_key_create_one_voucher() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 10).await;
    let rider = app.riders(1).await.remove(0);
    let sends = (0..10).map(|_| app.claim_with_key(&campaign, &rider.access, "weak-network-retry"));
    let mut statuses = Vec::new();
    for resp in join_all(sends).await {
        statuses.push(resp.status().as_u16());
        // Either the replayed 201 or "still in flight"; never a second voucher, never ALREADY_CLAIMED.
        if resp.status().as_u16() != 201 {
            assert_problem(resp, 409, "IDEMPOTENCY_IN_FLIGHT").await;
        }
    }
    assert!(statuses.contains(&201));
    let wallet: Value = app.wallet(&rider.access).await;
    assert_eq!(wallet["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn claim_bodies_take_nothing_and_keys_are_bounded() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 10).await;
    let rider = app.riders(1).await.remove(0);
    let url = app.url(&format!("/api/v1/campaigns/{campaign}/claims"));
    let mass = app
        .client
        .post(&url)
        .bearer_auth(&rider.access)
        .json(&json!({"user_id": "someone"}))
        .send()
        .await
        .unwrap();
    assert_problem(mass, 400, "INVALID_REQUEST").await;
    let long_key = app
        .client
        .post(&url)
        .bearer_auth(&rider.access)
        .header("Idempotency-Key", "k".repeat(256))
        .send()
        .await
        .unwrap();
    assert_problem(long_key, 400, "INVALID_REQUEST").await;
    let (_, staff) = (0, &w.luqiao_admin);
    assert_problem(app.claim(&campaign, &staff.access).await, 403, "FORBIDDEN").await;
    let missing = app.claim(&uuid::Uuid::now_v7().to_string(), &rider.access).await;
    assert_problem(missing, 404, "NOT_FOUND").await;
}

#[tokio::test]
async fn the_database_holds_no_issued_code() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 10).await;
    let rider = app.riders(1).await.remove(0);
    let voucher: Value = app
        .claim_with_key(&campaign, &rider.access, "dump-test")
        .await
        .json()
        .await
        .unwrap();
    let code = voucher["code"].as_str().unwrap();
    let raw = code.replace('-', "");
    let dump = match &app.config.database_url {
        zhijian::db::DatabaseUrl::Sqlite(path) => {
            let mut bytes = std::fs::read(path).unwrap();
            bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
            String::from_utf8_lossy(&bytes).into_owned()
        }
        zhijian::db::DatabaseUrl::Postgres(url) => {
            let out = std::process::Command::new("pg_dump")
                .arg("--data-only")
                .arg(url)
                .output()
                .expect("pg_dump runs");
            assert!(out.status.success());
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
    };
    assert!(dump.contains(voucher["id"].as_str().unwrap()), "the dump is real");
    assert!(
        !dump.contains(code) && !dump.contains(&raw),
        "a code is in the database"
    );
}

#[tokio::test]
async fn a_per_worker_limit_of_two_gives_two_and_no_more() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = &w.luqiao_admin.access;
    let draft = app
        .draft(admin, &w.luqiao, 20, courier_rules(), &[&w.luqiao_station])
        .await;
    let id = draft["id"].as_str().unwrap();
    let patched: Value = app
        .patch_auth(
            &format!("/api/v1/admin/campaigns/{id}"),
            admin,
            &json!({"per_worker_limit": 2}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(patched["per_worker_limit"], 2);
    app.post_auth(
        &format!("/api/v1/admin/campaigns/{id}/publish"),
        admin,
        &json!({}),
    )
    .await;
    let rider = app.riders(1).await.remove(0);
    let statuses: Vec<u16> = join_all((0..10).map(|_| app.claim(id, &rider.access)))
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 2, "{statuses:?}");
    assert_eq!(app.stats(id, admin).await["claimed"], 2);
}
