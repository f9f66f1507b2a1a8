//! Partner webhooks (issue 11): a claim and a redemption each reach the partner's endpoint
//! exactly once, signed as Standard Webhooks (checked here from the spec), retried under
//! the same `webhook-id` while the receiver fails, logged, and re-sendable; URLs on
//! private addresses are refused when they are not allowed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::jobs::eventually;
use common::receiver::*;
use common::*;
use serde_json::{json, Value};

/// The key bytes a `whsec_` secret stands for (Standard Webhooks).
fn key_of(secret: &str) -> Vec<u8> {
    STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap()
}

#[tokio::test]
async fn a_claim_and_a_redemption_each_arrive_once_signed_and_survive_a_failing_receiver() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (p, token, receiver, endpoint) = app
        .webhook_partner(
            &w.luqiao_admin.access,
            &w.luqiao,
            &["voucher.claimed", "voucher.redeemed"],
        )
        .await;
    let key = key_of(endpoint["secret"].as_str().unwrap());
    let endpoint_id = endpoint["id"].as_str().unwrap().to_owned();

    // A rider who granted the platform claims and redeems; one who did not, claims too.
    let campaign = app.luqiao_campaign(&w, 5).await;
    let riders = app.riders(2).await;
    app.created(
        "/api/v1/me/partner-grants",
        &riders[0].access,
        json!({"partner_id": p.id}),
    )
    .await;
    receiver.fail_next(3);
    let voucher: Value = app
        .claim(&campaign, &riders[0].access)
        .await
        .json()
        .await
        .unwrap();
    app.claim(&campaign, &riders[1].access).await;
    // The receiver fails three times, then takes the event: all four under one webhook-id.
    let claimed = eventually(30, "the claim event delivered", || async {
        let all = receiver.deliveries();
        all.iter().any(|d| d.answered == 200).then_some(all)
    })
    .await;
    let first = claimed[0].webhook_id().to_owned();
    assert!(
        claimed.iter().all(|d| d.webhook_id() == first),
        "one event so far"
    );
    assert_eq!(
        claimed.iter().map(|d| d.answered).collect::<Vec<_>>(),
        [500, 500, 500, 200]
    );

    let resp = app
        .post_auth(
            "/api/v1/counter/redemptions",
            &w.luqiao_counter.access,
            &json!({"code": voucher["code"], "station_id": w.luqiao_station}),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 201);
    eventually(30, "the redemption event delivered", || async {
        (receiver.deliveries().iter().filter(|d| d.answered == 200).count() >= 2).then_some(())
    })
    .await;
    // Let any stray repeat show itself before counting.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let deliveries = receiver.deliveries();
    let mut types: Vec<String> = deliveries
        .iter()
        .filter(|d| d.answered == 200)
        .map(|d| d.payload()["type"].as_str().unwrap().to_owned())
        .collect();
    types.sort();
    assert_eq!(
        types,
        ["voucher.claimed", "voucher.redeemed"],
        "one each, and nothing about the rider who did not grant"
    );
    for d in &deliveries {
        assert_signed(&key, d);
        let payload = d.payload();
        assert_eq!(payload["id"], d.webhook_id(), "the event id is the webhook-id");
        assert_eq!(payload["data"]["voucher_id"], voucher["id"]);
    }

    // The delivery log shows every attempt; a redelivery sends the event again, same id.
    let log: Value = app
        .get_auth(
            &format!("/api/v1/partner/webhook-endpoints/{endpoint_id}/deliveries"),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(log["items"].as_array().unwrap().len(), 5, "{log}");
    let resp = app
        .post_auth(
            &format!("/api/v1/partner/webhook-endpoints/{endpoint_id}/events/{first}/redeliver"),
            &token,
            &json!({}),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 202);
    eventually(10, "the redelivery", || async {
        (receiver
            .deliveries()
            .iter()
            .filter(|d| d.webhook_id() == first)
            .count()
            == 5)
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn webhook_urls_on_private_addresses_are_refused_unless_allowed() {
    // Nothing is ever sent to these addresses: they are refused at registration, before
    // any endpoint exists, and no event happens in this test.
    let app = spawn_app_with(|c| c.jobs.webhook_allow_private = false).await;
    let w = app.world().await;
    let p = app
        .partner(
            &w.luqiao_admin.access,
            &w.luqiao,
            "美团配送",
            &["webhooks:manage"],
        )
        .await;
    let token = app.partner_token(&p, None).await;
    for url in [
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.1/hook",
        "https://127.0.0.1:8443/hook",
        "http://hooks.example.com/plain-http",
    ] {
        let resp = app
            .post_auth(
                "/api/v1/partner/webhook-endpoints",
                &token,
                &json!({"url": url, "events": ["voucher.claimed"]}),
            )
            .await;
        let problem = assert_problem(resp, 400, "INVALID_REQUEST").await;
        assert_eq!(problem["errors"][0]["field"], "url", "{url}: {problem}");
    }
    let listed: Value = app
        .get_auth("/api/v1/partner/webhook-endpoints", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"], json!([]));
}
