//! A worker's first claim of a campaign this instance read lately is one statement on
//! PostgreSQL (session, standing, rules, window, stock and the writes together:
//! `claims::claim_first`); whatever that statement declines is read and refused as before,
//! with every reason. SQLite takes the transactional path. Counted by path in
//! `zhijian_claim_paths_total`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use common::*;
use serde_json::{json, Value};

/// The user id a token names (its `sub`), read without asking the service.
fn subject(token: &str) -> String {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: Value = serde_json::from_slice(&claims).unwrap();
    claims["sub"].as_str().unwrap().to_owned()
}

async fn remaining(app: &TestApp, campaign: &str, token: &str) -> i64 {
    let shown: Value = app
        .get_auth(&format!("/api/v1/campaigns/{campaign}"), token)
        .await
        .json()
        .await
        .unwrap();
    shown["remaining"].as_i64().unwrap()
}

#[tokio::test]
async fn a_first_claim_of_a_campaign_read_lately_is_one_statement() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 10).await;
    let riders = app.riders(4).await;
    // The first claim reads the campaign; the instance remembers it from then on.
    for rider in &riders[..3] {
        let made: Value = app.claim(&campaign, &rider.access).await.json().await.unwrap();
        assert_eq!(made["status"], "issued", "{made}");
        assert_eq!(made["campaign_title"], "暖心礼包", "{made}");
        assert!(made["code"].as_str().is_some_and(|c| !c.is_empty()), "{made}");
    }
    // A keyed claim too, and its replay answers the same voucher.
    let keyed = app
        .claim_with_key(&campaign, &riders[3].access, "k-first-1")
        .await;
    assert_eq!(keyed.status(), 201);
    let keyed: Value = keyed.json().await.unwrap();
    let again: Value = app
        .claim_with_key(&campaign, &riders[3].access, "k-first-1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["id"], keyed["id"]);
    assert_eq!(again["code"], keyed["code"]);
    let expected = if app.config.database_url.is_postgres() {
        (3.0, 1.0, 0.0)
    } else {
        (0.0, 0.0, 4.0)
    };
    assert_eq!(app.claim_paths().await, expected);
    // Each has one voucher, with its audit entry; four units are gone.
    for rider in &riders {
        let wallet = app.wallet(&rider.access).await;
        assert_eq!(wallet["items"].as_array().unwrap().len(), 1, "{wallet}");
    }
    assert_eq!(remaining(&app, &campaign, &riders[0].access).await, 6);
    let trail: Value = app
        .get_auth(
            "/api/v1/admin/audit-events?action=voucher.claimed",
            &w.luqiao_admin.access,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(trail["items"].as_array().unwrap().len(), 4, "{trail}");
    // A second claim is refused with its reason, and writes nothing.
    assert_problem(
        app.claim(&campaign, &riders[1].access).await,
        409,
        "ALREADY_CLAIMED",
    )
    .await;
    assert_eq!(remaining(&app, &campaign, &riders[0].access).await, 6);
}

#[tokio::test]
async fn what_the_first_statement_declines_is_refused_with_its_reasons() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = &w.luqiao_admin.access;
    let campaign = app.luqiao_campaign(&w, 10).await;
    let riders = app.riders(3).await;
    assert_eq!(app.claim(&campaign, &riders[0].access).await.status(), 201);

    let before = app.claim_paths().await;
    // A session ended a moment ago.
    assert_eq!(app.logout(&riders[1].refresh).await.status(), 204);
    assert_problem(
        app.claim(&campaign, &riders[1].access).await,
        401,
        "TOKEN_REVOKED",
    )
    .await;
    // Staff cannot claim; nor can a worker who must change their password first.
    assert_problem(
        app.claim(&campaign, &w.luqiao_counter.access).await,
        403,
        "FORBIDDEN",
    )
    .await;
    let forced = app.riders(1).await.remove(0);
    // Its id from the token itself: a request would have its session check remembered.
    let forced_id = subject(&forced.access);
    app.sql(&format!(
        "UPDATE users SET password_change_required = TRUE WHERE id = '{forced_id}'"
    ));
    assert_problem(
        app.claim(&campaign, &forced.access).await,
        403,
        "PASSWORD_CHANGE_REQUIRED",
    )
    .await;
    // A worker the rules do not admit is told why.
    let (_, stranger) = app.worker().await;
    let me: Value = app
        .get_auth("/api/v1/me", &stranger.access)
        .await
        .json()
        .await
        .unwrap();
    let id = me["id"].as_str().unwrap();
    app.sql(&format!(
        "UPDATE users SET occupation = 'sanitation', region_code = '330102' WHERE id = '{id}'"
    ));
    let refused = assert_problem(app.claim(&campaign, &stranger.access).await, 403, "NOT_ELIGIBLE").await;
    let codes: Vec<&str> = refused["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["OCCUPATION_NOT_COVERED", "REGION_NOT_COVERED"]);
    assert_eq!(app.claim_paths().await, before, "no voucher for any of them");
    // A paused campaign, then published again.
    let act = |verb: &str| format!("/api/v1/admin/campaigns/{campaign}/{verb}");
    assert_eq!(
        app.post_auth(&act("pause"), admin, &json!({})).await.status(),
        200
    );
    assert_problem(
        app.claim(&campaign, &riders[2].access).await,
        409,
        "CAMPAIGN_NOT_OPEN",
    )
    .await;
    assert_eq!(
        app.post_auth(&act("publish"), admin, &json!({})).await.status(),
        200
    );
    assert_eq!(app.claim(&campaign, &riders[2].access).await.status(), 201);
    assert_eq!(remaining(&app, &campaign, &riders[0].access).await, 8);

    // Rules changed after the campaign was read (allowed before its first voucher): the
    // remembered rules would admit the rider; the statement sees the change and declines,
    // and the new rules refuse.
    let other = app.luqiao_campaign(&w, 10).await;
    let rider = app.riders(1).await.remove(0);
    let seen: Value = app
        .get_auth(&format!("/api/v1/campaigns/{other}/eligibility"), &rider.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["eligible"], true, "{seen}");
    let edit = json!({"rules": [{"type": "hardship_archived"}]});
    let edited = app
        .patch_auth(&format!("/api/v1/admin/campaigns/{other}"), admin, &edit)
        .await;
    assert_eq!(edited.status(), 200, "{}", edited.text().await.unwrap());
    let refused = assert_problem(app.claim(&other, &rider.access).await, 403, "NOT_ELIGIBLE").await;
    assert_eq!(refused["reasons"][0]["code"], "NOT_HARDSHIP_ARCHIVED");
    assert_eq!(remaining(&app, &other, &rider.access).await, 10);
}

#[tokio::test]
async fn parallel_first_claims_make_one_voucher_a_worker_and_never_oversell() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let riders = app.riders(21).await;
    // Read once, so every claim below may be a first statement.
    assert_eq!(app.claim(&campaign, &riders[0].access).await.status(), 201);

    let same = &riders[1].access;
    let answers = futures_util::future::join_all((0..8).map(|_| app.claim(&campaign, same))).await;
    let mut codes: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    codes.sort_unstable();
    assert_eq!(codes, [201, 409, 409, 409, 409, 409, 409, 409]);

    let burst =
        futures_util::future::join_all(riders[2..].iter().map(|r| app.claim(&campaign, &r.access))).await;
    let created = burst.iter().filter(|r| r.status() == 201).count();
    assert_eq!(
        created, 3,
        "5 units: one to the first rider, one to the second, three left"
    );
    for answer in burst.into_iter().filter(|r| r.status() != 201) {
        assert_problem(answer, 409, "SOLD_OUT").await;
    }
    assert_eq!(remaining(&app, &campaign, &riders[0].access).await, 0);
    let stats = app.stats(&campaign, &w.luqiao_admin.access).await;
    assert_eq!(stats["claimed"], 5, "{stats}");
}

#[tokio::test]
async fn a_member_s_first_claim_under_membership_rules_is_one_statement() {
    let app = spawn_app().await;
    let w = app.world().await;
    let rules = json!([
        {"type": "membership_required"},
        {"type": "member_of", "union_id": w.city},
        {"type": "member_since_before", "date": "2099-01-01"}
    ]);
    let campaign = app
        .campaign(&w.luqiao_admin.access, &w.luqiao, 10, rules, &[&w.luqiao_station])
        .await;
    let (_, first, _) = app.member(&w.luqiao, &w.luqiao_admin).await;
    let (_, second, _) = app.member(&w.luqiao, &w.luqiao_admin).await;
    let (_, outsider) = app.worker().await;
    assert_eq!(app.claim(&campaign, &first.access).await.status(), 201);
    let refused = assert_problem(app.claim(&campaign, &outsider.access).await, 403, "NOT_ELIGIBLE").await;
    assert_eq!(refused["reasons"][0]["code"], "NOT_A_MEMBER");
    assert_eq!(app.claim(&campaign, &second.access).await.status(), 201);
    let expected = if app.config.database_url.is_postgres() {
        (1.0, 1.0, 0.0)
    } else {
        (0.0, 0.0, 2.0)
    };
    assert_eq!(app.claim_paths().await, expected);
    assert_eq!(remaining(&app, &campaign, &first.access).await, 8);
}
