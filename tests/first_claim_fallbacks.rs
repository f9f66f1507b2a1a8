//! What the one-statement first claim (`claims::claim_first`, PostgreSQL) leaves to the
//! transactional path even for a campaign the instance remembers: a batch that came due
//! since (the claim releases it before taking a unit) and a live webhook endpoint (the
//! claim's event is addressed to it). Counted by path in `zhijian_claim_paths_total`; on
//! SQLite every claim takes the transactional path anyway.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use common::jobs::*;
use common::*;
use serde_json::{json, Value};

/// `t` as a union office's form sends it (`stock_releases[].at`).
fn at(t: DateTime<Utc>) -> String {
    whole(t).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// On PostgreSQL, that `app` made one more voucher in one statement: the campaign is
/// remembered, so what the tests below change is what the statement must see.
async fn assert_remembered(app: &TestApp, before: (f64, f64, f64)) {
    if app.config.database_url.is_postgres() {
        let (one, read, tx) = before;
        assert_eq!(app.claim_paths().await, (one + 1.0, read, tx));
    }
}

#[tokio::test]
async fn a_batch_due_since_the_campaign_was_remembered_is_released_by_the_claim() {
    // No job tick within the test: only a claim can release the second batch.
    let app = spawn_app_with(|c| c.jobs.tick = std::time::Duration::from_secs(3600)).await;
    let w = app.world().await;
    let admin = w.luqiao_admin.access.as_str();
    let riders = app.riders(4).await;
    let watcher = riders[3].access.as_str();
    let later = whole(Utc::now() + Duration::seconds(6));
    let batches = json!({"stock_releases": [
        {"at": at(Utc::now() - Duration::hours(1)), "quantity": 3},
        {"at": at(later), "quantity": 2},
    ]});
    let id = app.publish_body(admin, campaign_body(&w, 5, batches)).await;
    // The first claim reads the campaign, and the instance remembers it.
    assert_eq!(app.claim(&id, &riders[0].access).await.status(), 201);
    let seen = app.claim_paths().await;
    assert_eq!(app.claim(&id, &riders[1].access).await.status(), 201);
    assert_remembered(&app, seen).await;
    let before = app.stock(&id, watcher, admin, "before the second batch").await;
    assert_eq!(before["unreleased"], 2, "{before}");
    assert!(Utc::now() < later, "setup took longer than the batch is ahead");

    tokio::time::sleep((later - Utc::now() + Duration::seconds(1)).to_std().unwrap()).await;
    let (one, read, tx) = app.claim_paths().await;
    let resp = app.claim(&id, &riders[2].access).await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    // A statement that ignored the due batch would have taken the first batch's last unit
    // and left the second unreleased.
    assert_eq!(
        app.claim_paths().await,
        (one, read, tx + 1.0),
        "the transactional path, which releases the due batch first"
    );
    let after = app.stock(&id, watcher, admin, "the second batch out").await;
    assert_eq!(
        (&after["remaining"], &after["unreleased"]),
        (&json!(2), &json!(0)),
        "{after}"
    );
    assert!(after["next_release_at"].is_null(), "{after}");
}

#[tokio::test]
async fn with_a_live_webhook_endpoint_a_first_claim_addresses_its_event() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let riders = app.riders(3).await;
    // Remembered before any endpoint exists.
    assert_eq!(app.claim(&campaign, &riders[0].access).await.status(), 201);
    let seen = app.claim_paths().await;
    assert_eq!(app.claim(&campaign, &riders[2].access).await.status(), 201);
    assert_remembered(&app, seen).await;
    let (p, _, receiver, _) = app
        .webhook_partner(&w.luqiao_admin.access, &w.luqiao, &["voucher.claimed"])
        .await;
    app.created(
        "/api/v1/me/partner-grants",
        &riders[1].access,
        json!({"partner_id": p.id}),
    )
    .await;

    let (one, read, tx) = app.claim_paths().await;
    let voucher: Value = app
        .claim(&campaign, &riders[1].access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(voucher["status"], "issued", "{voucher}");
    assert_eq!(
        app.claim_paths().await,
        (one, read, tx + 1.0),
        "the transactional path, which addresses the claim's event"
    );
    let event = eventually(30, "the claim's event delivered", || async {
        receiver
            .deliveries()
            .into_iter()
            .find(|d| d.answered == 200)
            .map(|d| d.payload())
    })
    .await;
    assert_eq!(event["type"], "voucher.claimed", "{event}");
    assert_eq!(event["data"]["voucher_id"], voucher["id"], "{event}");
}
