//! Ratings and micro-wishes (评价与微心愿, issue 14): a worker rates a voucher once it has
//! been handed over, the stats average the ratings; a worker files a wish, the union office
//! counts open wishes by category and occupation, a campaign targets the wishers, and the
//! hand-over fulfils the wish.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use common::jobs::{of_kind, utc};
use common::partners::reason_codes;
use common::readable::assert_invalid;
use common::world::World;
use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn a_voucher_is_rated_once_after_it_is_redeemed() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let mut riders = app.riders(2).await;
    let (owner, stranger) = (riders.remove(0), riders.remove(0));
    let voucher = claimed(&app, &campaign, &owner).await;
    let id = voucher["id"].as_str().unwrap();
    let good = json!({"score": 5, "comment": "很好"});

    let early = rate(&app, &owner, id, &good).await;
    assert_problem(early, 409, "VOUCHER_NOT_REDEEMED").await;
    let none = app.stats(&campaign, &w.luqiao_admin.access).await;
    assert_eq!(none["rating"]["count"], 0, "{none}");
    assert!(none["rating"]["average"].is_null(), "{none}");
    assert!(none["rating"]["full_marks_share"].is_null(), "{none}");

    redeem(&app, &w, voucher["code"].as_str().unwrap()).await;
    for score in [0, 6] {
        let resp = rate(&app, &owner, id, &json!({"score": score, "comment": "很好"})).await;
        assert_invalid(resp, "score", &format!("score {score}")).await;
    }
    let rated = rate(&app, &owner, id, &good).await;
    let status = rated.status().as_u16();
    let rated: Value = rated.json().await.unwrap();
    assert_eq!(status, 201, "{rated}");
    assert_eq!(rated["voucher_id"], id, "{rated}");
    assert_eq!(rated["score"], 5, "{rated}");
    assert_eq!(rated["comment"], "很好", "{rated}");
    utc(&rated["created_at"]);

    let again = rate(&app, &owner, id, &good).await;
    assert_problem(again, 409, "ALREADY_RATED").await;
    let not_theirs = rate(&app, &stranger, id, &good).await;
    assert_problem(not_theirs, 404, "VOUCHER_NOT_FOUND").await;

    let stats = app.stats(&campaign, &w.luqiao_admin.access).await;
    assert_rating(&stats["rating"], 1, 5.0, 1.0);
    let here = station_entry(&stats, &w.luqiao_station);
    assert_eq!(here["rating"]["count"], 1, "{stats}");

    // The wallet remembers the score, on every device.
    let held = app
        .read_ok(&format!("/api/v1/me/vouchers/{id}"), &owner.access)
        .await;
    assert_eq!(held["rating"], 5, "{held}");
    let wallet = app.wallet(&owner.access).await;
    assert_eq!(wallet["items"][0]["rating"], 5, "{wallet}");
}

#[tokio::test]
async fn ratings_are_averaged_with_the_share_of_full_marks() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 5).await;
    for (rider, score) in app.riders(3).await.iter().zip([5, 5, 3]) {
        let voucher = claimed(&app, &campaign, rider).await;
        redeem(&app, &w, voucher["code"].as_str().unwrap()).await;
        let id = voucher["id"].as_str().unwrap();
        let resp = rate(&app, rider, id, &json!({"score": score})).await;
        let status = resp.status().as_u16();
        assert_eq!(status, 201, "score {score}: {}", resp.text().await.unwrap());
    }
    let stats = app.stats(&campaign, &w.luqiao_admin.access).await;
    assert_rating(&stats["rating"], 3, 13.0 / 3.0, 2.0 / 3.0);
    let here = station_entry(&stats, &w.luqiao_station);
    assert_rating(&here["rating"], 3, 13.0 / 3.0, 2.0 / 3.0);
}

#[tokio::test]
async fn a_wish_is_filed_counted_targeted_and_fulfilled_end_to_end() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = &w.luqiao_admin.access;

    // A courier, member of 路桥, wishes for gloves.
    let (_, wisher, _) = app.member(&w.luqiao, &w.luqiao_admin).await;
    let courier = app
        .patch_auth("/api/v1/me", &wisher.access, &json!({"occupation": "courier"}))
        .await;
    assert_eq!(courier.status().as_u16(), 200);
    let gloves = json!({"category": "warmth", "text": "冬天需要一副手套"});
    let wish = app.created("/api/v1/me/wishes", &wisher.access, gloves).await;
    let wish_id = wish["id"].as_str().unwrap().to_owned();
    assert_eq!(wish["category"], "warmth", "{wish}");
    assert_eq!(wish["text"], "冬天需要一副手套", "{wish}");
    assert_eq!(wish["status"], "open", "{wish}");
    assert!(wish["fulfilled_at"].is_null(), "{wish}");
    utc(&wish["created_at"]);

    let scarf = json!({"category": "warmth", "text": "还想要一条围巾"});
    let second = app.post_auth("/api/v1/me/wishes", &wisher.access, &scarf).await;
    assert_problem(second, 409, "WISH_ALREADY_OPEN").await;
    let odd = json!({"category": "luxury", "text": "一块手表"});
    let bad = app.post_auth("/api/v1/me/wishes", &wisher.access, &odd).await;
    assert_invalid(bad, "category", "a category not on the list").await;

    let mine = app.read_ok("/api/v1/me/wishes", &wisher.access).await;
    let items = mine["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{mine}");
    assert_eq!(items[0]["id"], wish_id.as_str(), "{mine}");
    assert_eq!(items[0]["status"], "open", "{mine}");

    // The union office counts it; another district may not look at 路桥's wishes.
    let summary = app.read_ok("/api/v1/admin/wishes/summary", admin).await;
    assert_eq!(summary["union_id"], w.luqiao.as_str(), "{summary}");
    let open = summary["open"].as_i64().unwrap();
    assert!(open >= 1, "{summary}");
    let warmth = entry(&summary["by_category"], &[("category", "warmth")]);
    assert_eq!(warmth["count"], 1, "{summary}");
    let couriers = entry(&summary["by_occupation"], &[("occupation", "courier")]);
    assert_eq!(couriers["count"], 1, "{summary}");
    let cell = entry(
        &summary["cells"],
        &[("category", "warmth"), ("occupation", "courier")],
    );
    assert_eq!(cell["count"], 1, "{summary}");
    let path = format!("/api/v1/admin/wishes/summary?union_id={}", w.luqiao);
    let elsewhere = app.get_auth(&path, &w.jiaojiang_admin.access).await;
    assert_eq!(elsewhere.status().as_u16(), 403);

    // A campaign for those who wish for warmth: a rider without a wish is told why not.
    let rules = json!([{"type": "wished", "category": "warmth"}]);
    let campaign = app
        .campaign(admin, &w.luqiao, 5, rules, &[&w.luqiao_station])
        .await;
    let other = app.riders(1).await.remove(0);
    let refused = app.eligibility(&campaign, &other.access).await;
    assert_eq!(refused["eligible"], false, "{refused}");
    assert!(
        reason_codes(&refused).iter().any(|c| c == "NO_MATCHING_WISH"),
        "{refused}"
    );
    let admitted = app.eligibility(&campaign, &wisher.access).await;
    assert_eq!(admitted["eligible"], true, "{admitted}");

    // The wisher claims and collects: the wish comes true, and the worker is told.
    let voucher = claimed(&app, &campaign, &wisher).await;
    redeem(&app, &w, voucher["code"].as_str().unwrap()).await;
    let mine = app.read_ok("/api/v1/me/wishes", &wisher.access).await;
    let fulfilled = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == wish_id.as_str())
        .unwrap_or_else(|| panic!("the wish is still listed: {mine}"));
    assert_eq!(fulfilled["status"], "fulfilled", "{fulfilled}");
    utc(&fulfilled["fulfilled_at"]);
    let inbox = app.inbox(&wisher.access).await;
    assert_eq!(of_kind(&inbox, "wish_fulfilled").len(), 1, "{inbox:?}");

    let after = app.read_ok("/api/v1/admin/wishes/summary", admin).await;
    assert_eq!(after["open"].as_i64().unwrap(), open - 1, "{after}");
}

// ---- helpers ----

/// Claims a voucher of `campaign` (201) and returns the answer.
#[tokio::test]
async fn a_reversed_hand_over_reopens_the_wish_and_drops_its_rating() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = &w.luqiao_admin.access;
    let (_, wisher, _) = app.member(&w.luqiao, &w.luqiao_admin).await;
    let gloves = json!({"category": "warmth", "text": "冬天需要一副手套"});
    let wish = app.created("/api/v1/me/wishes", &wisher.access, gloves).await;
    let rules = json!([{"type": "wished", "category": "warmth"}]);
    let campaign = app
        .campaign(admin, &w.luqiao, 5, rules, &[&w.luqiao_station])
        .await;
    let voucher = claimed(&app, &campaign, &wisher).await;
    let voucher_id = voucher["id"].as_str().unwrap();
    let redemption = redeem(&app, &w, voucher["code"].as_str().unwrap()).await;
    let rated = rate(&app, &wisher, voucher_id, &json!({"score": 5})).await;
    assert_eq!(rated.status().as_u16(), 201);

    // The counter redeemed by mistake; the office reverses it (冲正).
    let path = format!(
        "/api/v1/admin/redemptions/{}/reverse",
        redemption["id"].as_str().unwrap()
    );
    let reversed = app.post_auth(&path, admin, &json!({"reason": "误核销"})).await;
    assert_eq!(
        reversed.status().as_u16(),
        200,
        "{}",
        reversed.text().await.unwrap()
    );

    let mine = app.read_ok("/api/v1/me/wishes", &wisher.access).await;
    assert_eq!(mine["items"][0]["id"], wish["id"], "{mine}");
    assert_eq!(
        mine["items"][0]["status"], "open",
        "the wish is open again: {mine}"
    );
    assert!(mine["items"][0]["fulfilled_at"].is_null(), "{mine}");
    let again = app.eligibility(&campaign, &wisher.access).await;
    assert!(
        !reason_codes(&again).iter().any(|c| c == "NO_MATCHING_WISH"),
        "the reopened wish still admits them: {again}"
    );
    let stats = app.stats(&campaign, admin).await;
    assert_eq!(
        stats["rating"]["count"], 0,
        "the rating went with the hand-over: {stats}"
    );
    let early = rate(&app, &wisher, voucher_id, &json!({"score": 4})).await;
    assert_problem(early, 409, "VOUCHER_NOT_REDEEMED").await;

    // Collected for real this time: fulfilled again, and rated once more.
    redeem(&app, &w, voucher["code"].as_str().unwrap()).await;
    let mine = app.read_ok("/api/v1/me/wishes", &wisher.access).await;
    assert_eq!(mine["items"][0]["status"], "fulfilled", "{mine}");
    let rated = rate(&app, &wisher, voucher_id, &json!({"score": 4})).await;
    assert_eq!(rated.status().as_u16(), 201);
}

async fn claimed(app: &TestApp, campaign: &str, worker: &Tokens) -> Value {
    let resp = app.claim(campaign, &worker.access).await;
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "claim: {body}");
    body
}

/// Redeems `code` at 路桥驿站 by its counter (201).
async fn redeem(app: &TestApp, w: &World, code: &str) -> Value {
    let body = json!({"code": code, "station_id": w.luqiao_station});
    app.created("/api/v1/counter/redemptions", &w.luqiao_counter.access, body)
        .await
}

async fn rate(app: &TestApp, worker: &Tokens, voucher: &str, body: &Value) -> reqwest::Response {
    let path = format!("/api/v1/me/vouchers/{voucher}/rating");
    app.post_auth(&path, &worker.access, body).await
}

/// `{count, average, full_marks_share}`; the fractions within rounding to two places.
fn assert_rating(rating: &Value, count: i64, average: f64, share: f64) {
    assert_eq!(rating["count"].as_i64(), Some(count), "{rating}");
    let near = |field: &str, expected: f64| {
        let found = rating[field]
            .as_f64()
            .unwrap_or_else(|| panic!("no {field}: {rating}"));
        assert!(
            (found - expected).abs() < 0.01,
            "{field} {found} ≠ {expected}: {rating}"
        );
    };
    near("average", average);
    near("full_marks_share", share);
}

/// The `by_station` entry of `station`.
fn station_entry<'a>(stats: &'a Value, station: &str) -> &'a Value {
    stats["by_station"]
        .as_array()
        .unwrap_or_else(|| panic!("no by_station: {stats}"))
        .iter()
        .find(|s| s["station_id"] == station)
        .unwrap_or_else(|| panic!("no by_station entry for {station}: {stats}"))
}

/// The one entry of a summary list whose fields have the given values.
fn entry<'a>(list: &'a Value, fields: &[(&str, &str)]) -> &'a Value {
    let mut found = list
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .filter(|e| fields.iter().all(|(k, v)| e[*k] == *v));
    let one = found
        .next()
        .unwrap_or_else(|| panic!("no entry {fields:?} in {list}"));
    assert!(found.next().is_none(), "two entries {fields:?} in {list}");
    one
}
