//! Beijing time (contract v1.1 "Time", issue 9 fault 3): what a union office types is civil
//! time, JSON answers stay UTC, and every sentence meant for a person shows civil time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use common::world::World;
use common::*;
use serde_json::{json, Value};

/// A campaign of 路桥 open to everyone, with its three times as typed.
fn campaign(w: &World, starts: &str, ends: &str, until: &str) -> Value {
    json!({
        "union_id": w.luqiao, "title": "暖心礼包", "item_name": "冬季暖心包", "total_stock": 5,
        "claim_starts_at": starts, "claim_ends_at": ends, "redeem_until": until,
        "station_ids": [w.luqiao_station], "rules": [],
    })
}

async fn publish(app: &TestApp, w: &World, body: Value) -> String {
    let admin = &w.luqiao_admin.access;
    let id = app.created("/api/v1/admin/campaigns", admin, body).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app
        .post_auth(
            &format!("/api/v1/admin/campaigns/{id}/publish"),
            admin,
            &json!({}),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200, "{}", resp.text().await.unwrap());
    id
}

async fn eligibility(app: &TestApp, campaign: &str, token: &str) -> Value {
    app.get_auth(&format!("/api/v1/campaigns/{campaign}/eligibility"), token)
        .await
        .json()
        .await
        .unwrap()
}

/// The message of the reason with `code`; fails when there is none.
fn reason<'a>(answer: &'a Value, code: &str) -> &'a str {
    answer["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == code)
        .and_then(|r| r["message"].as_str())
        .unwrap_or_else(|| panic!("no {code} among {answer}"))
}

/// A sentence for a person: no UTC, no RFC 3339 `…T…Z` timestamps.
fn assert_civil(text: &str) {
    assert!(!text.contains("UTC") && !text.contains("GMT"), "{text}");
    let chars: Vec<char> = text.chars().collect();
    let machine_time = chars
        .windows(3)
        .any(|c| c[0].is_ascii_digit() && c[1] == 'T' && c[2].is_ascii_digit());
    assert!(!machine_time, "a machine timestamp in {text:?}");
}

#[tokio::test]
async fn campaign_times_without_an_offset_are_beijing_time_and_come_back_in_utc() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = &w.luqiao_admin.access;
    // As a union office types them: a Beijing wall-clock time and two bare dates.
    let body = campaign(&w, "2030-12-01T09:00:00", "2030-12-31", "2031-01-28");
    let created = app.created("/api/v1/admin/campaigns", admin, body).await;
    assert_eq!(created["claim_starts_at"], "2030-12-01T01:00:00Z");
    assert_eq!(
        created["claim_ends_at"], "2030-12-31T15:59:59Z",
        "a bare end date lasts until 23:59:59 Beijing time"
    );
    assert_eq!(created["redeem_until"], "2031-01-28T15:59:59Z");

    let path = format!("/api/v1/admin/campaigns/{}", created["id"].as_str().unwrap());
    for (field, typed, stored) in [
        // A bare start date begins at 00:00 Beijing time, the evening before in UTC.
        ("claim_starts_at", "2030-12-02", "2030-12-01T16:00:00Z"),
        ("claim_starts_at", "2030-12-01T00:30:00", "2030-11-30T16:30:00Z"),
        (
            "claim_starts_at",
            "2030-12-01T09:00:00+08:00",
            "2030-12-01T01:00:00Z",
        ),
        ("claim_starts_at", "2030-12-01T01:00:00Z", "2030-12-01T01:00:00Z"),
        ("redeem_until", "2031-01-28T18:30:00", "2031-01-28T10:30:00Z"),
        ("claim_ends_at", "2031-01-01", "2031-01-01T15:59:59Z"),
    ] {
        let resp = app.patch_auth(&path, admin, &json!({ field: typed })).await;
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, 200, "{field} = {typed}: {body}");
        assert_eq!(body[field], stored, "{field} = {typed}");
    }
}

#[tokio::test]
async fn a_worker_is_told_when_claims_open_in_beijing_time() {
    let app = spawn_app().await;
    let w = app.world().await;
    let id = publish(
        &app,
        &w,
        campaign(&w, "2030-12-01T09:00:00", "2030-12-31", "2031-01-28"),
    )
    .await;
    let rider = app.riders(1).await.remove(0);
    let shown: Value = app
        .get_auth(&format!("/api/v1/campaigns/{id}"), &rider.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["claim_starts_at"], "2030-12-01T01:00:00Z");

    let answer = eligibility(&app, &id, &rider.access).await;
    let message = reason(&answer, "CAMPAIGN_NOT_OPEN");
    assert!(message.contains("2030-12-01 09:00"), "{message}");
    for r in answer["reasons"].as_array().unwrap() {
        assert_civil(r["message"].as_str().unwrap());
    }

    let refused = assert_problem(app.claim(&id, &rider.access).await, 409, "CAMPAIGN_NOT_OPEN").await;
    let detail = refused["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("2030-12-01 09:00"), "{refused}");
    assert_civil(detail);
    assert_civil(refused["title"].as_str().unwrap());
}

#[tokio::test]
async fn a_second_redemption_says_when_the_first_was_in_beijing_time() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let rider = app.riders(1).await.remove(0);
    let voucher: Value = app.claim(&campaign, &rider.access).await.json().await.unwrap();
    let redeem = json!({"code": voucher["code"], "station_id": w.luqiao_station});
    let counter = &w.luqiao_counter.access;
    let first = app
        .post_auth("/api/v1/counter/redemptions", counter, &redeem)
        .await;
    assert_eq!(first.status().as_u16(), 201);
    // 16:30 UTC on 1 January is half past midnight on 2 January in Beijing.
    app.sql(&format!(
        "UPDATE redemptions SET redeemed_at = '2026-01-01 16:30:00' WHERE voucher_id = '{}'",
        voucher["id"].as_str().unwrap()
    ));

    let again = app
        .post_auth("/api/v1/counter/redemptions", counter, &redeem)
        .await;
    let problem = assert_problem(again, 409, "ALREADY_REDEEMED").await;
    assert_eq!(
        problem["redeemed_at"], "2026-01-01T16:30:00Z",
        "machines still read UTC"
    );
    assert_eq!(problem["station_name"], "路桥驿站");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("2026-01-02 00:30"), "{detail}");
    assert!(detail.contains("路桥驿站"), "{detail}");
    assert_civil(detail);
}

#[tokio::test]
async fn member_since_before_compares_beijing_calendar_dates() {
    let app = spawn_app().await;
    let w = app.world().await;
    let rules = json!([{"type": "member_since_before", "date": "2026-11-30"}]);
    let id = app
        .campaign(&w.luqiao_admin.access, &w.luqiao, 5, rules, &[&w.luqiao_station])
        .await;
    let (_, member, user) = app.member(&w.luqiao, &w.luqiao_admin).await;
    let joined_at = |utc: &str| {
        app.sql(&format!(
            "UPDATE memberships SET since = '{utc}', started_at = '{utc}' WHERE user_id = '{user}'"
        ));
    };

    // 02:13 on 30 November in Beijing (still the 29th in UTC): the rule's own day.
    joined_at("2026-11-29 18:13:00");
    let answer = eligibility(&app, &id, &member.access).await;
    assert_eq!(answer["eligible"], false, "{answer}");
    reason(&answer, "MEMBERSHIP_TOO_RECENT");

    // 23:59 on 29 November in Beijing: the day before.
    joined_at("2026-11-29 15:59:00");
    let answer = eligibility(&app, &id, &member.access).await;
    assert_eq!(answer["eligible"], true, "{answer}");
}
