//! The same fault kinds as `validation.rs`, `free_text.rs` and `code_input.rs`, tried
//! with the inputs a second, hostile reading found (issue 9): blank look-alikes, values
//! that quote Chinese, arrays where objects belong, a station named twice, join-code
//! guessing, and a lookup at a station the counter does not serve.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use common::readable::assert_invalid;
use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn names_that_print_as_nothing_are_refused() {
    let app = spawn_app().await;
    // Hangul fillers, the braille blank, a soft hyphen, a lone combining mark, a tag
    // character, a line separator inside a name.
    for name in [
        "\u{3164}",
        "\u{ffa0}",
        "\u{2800}",
        "\u{ad}",
        "\u{301}",
        "王\u{e0020}",
        "王\u{2028}明",
    ] {
        let body = json!({"phone": random_phone(), "password": PASSWORD, "name": name});
        assert_invalid(
            app.post("/api/v1/auth/register", &body).await,
            "name",
            &format!("{name:?}"),
        )
        .await;
    }
}

#[tokio::test]
async fn serde_words_never_leak_when_the_value_is_chinese() {
    let app = spawn_app().await;
    let (_, worker) = app.worker().await;
    let cases = [
        (json!({"occupation": "快递"}), "occupation"),
        (json!({"occupation": 5}), "occupation"),
        (json!({"状态": 1}), "状态"),
        (json!({"name": "王", "name_2": "x"}), "name_2"),
    ];
    for (body, field) in cases {
        let resp = app.patch_auth("/api/v1/me", &worker.access, &body).await;
        assert_invalid(resp, field, &body.to_string()).await;
    }
    let listed = app
        .get_auth("/api/v1/campaigns?%E7%8A%B6%E6%80%81=x", &worker.access)
        .await;
    assert_invalid(listed, "状态", "a Chinese query key").await;
    let stations = app.get_auth("/api/v1/stations?union_id=x", &worker.access).await;
    assert_invalid(stations, "union_id", "a malformed union id").await;
}

#[tokio::test]
async fn bodies_are_objects_never_arrays() {
    let app = spawn_app().await;
    let (phone, worker) = app.worker().await;
    let login = app.post("/api/v1/auth/login", &json!([phone, PASSWORD])).await;
    assert_invalid(login, "body", "an array as a login").await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let claim = app
        .post_auth(
            &format!("/api/v1/campaigns/{campaign}/claims"),
            &worker.access,
            &json!([]),
        )
        .await;
    assert_invalid(claim, "body", "an array as a claim").await;
}

#[tokio::test]
async fn a_station_named_twice_is_a_400_not_a_500() {
    let app = spawn_app().await;
    let w = app.world().await;
    let twice = json!([w.luqiao_station, w.luqiao_station.to_uppercase()]);
    let staff = json!({"phone": random_phone(), "password": PASSWORD, "name": "甲", "role": "counter",
        "union_id": w.luqiao, "station_ids": twice});
    let resp = app
        .post_auth("/api/v1/admin/staff", &w.luqiao_admin.access, &staff)
        .await;
    assert_invalid(resp, "station_ids[1]", "staff").await;
    let campaign = json!({"union_id": w.luqiao, "title": "暖心礼包", "item_name": "礼包", "total_stock": 5,
        "claim_starts_at": "2030-01-01", "claim_ends_at": "2030-02-01", "redeem_until": "2030-03-01",
        "station_ids": twice, "rules": []});
    let resp = app
        .post_auth("/api/v1/admin/campaigns", &w.luqiao_admin.access, &campaign)
        .await;
    assert_invalid(resp, "station_ids[1]", "campaign").await;
}

#[tokio::test]
async fn guessing_join_codes_is_cut_off_like_guessing_voucher_codes() {
    let app = spawn_app_with(|c| c.limits.code_guess_max = 5).await;
    let w = app.world().await;
    let (_, worker) = app.worker().await;
    let real: Value = app
        .created("/api/v1/me/join-codes", &worker.access, json!({}))
        .await;
    for i in 0..5 {
        let body = json!({"join_code": format!("{:08}", 10_000_000 + i), "union_id": w.luqiao});
        let resp = app
            .post_auth(
                "/api/v1/counter/membership-applications",
                &w.luqiao_counter.access,
                &body,
            )
            .await;
        assert_problem(resp, 404, "NOT_FOUND").await;
    }
    let body = json!({"join_code": real["code"], "union_id": w.luqiao});
    let resp = app
        .post_auth(
            "/api/v1/counter/membership-applications",
            &w.luqiao_counter.access,
            &body,
        )
        .await;
    assert_problem(resp, 429, "RATE_LIMITED").await;
}

#[tokio::test]
async fn a_lookup_at_a_station_the_counter_does_not_serve_says_so() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let rider = app.riders(1).await.remove(0);
    let voucher: Value = app.claim(&campaign, &rider.access).await.json().await.unwrap();
    let body = json!({"code": voucher["code"], "station_id": w.luqiao_station_2});
    let resp = app
        .post_auth("/api/v1/counter/lookups", &w.luqiao_counter.access, &body)
        .await;
    let problem = assert_problem(resp, 403, "STATION_NOT_ALLOWED").await;
    assert!(
        problem["detail"].as_str().unwrap().contains("未绑定"),
        "{problem}"
    );
}
