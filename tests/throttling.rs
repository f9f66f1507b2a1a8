//! Throttles that stop floods and guessers without locking people out (issue 9, faults
//! 12 and 14): a budget per client address answered before any hashing, per-(phone,
//! address) sign-in failures, weak passwords refused, and an atomic code-guess limit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use std::time::Duration;

use common::addresses::{assert_rate_limited, behind_a_proxy};
use common::*;
use futures_util::future::join_all;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

const FLOOD: &str = "203.0.113.7";
const OWNER: &str = "198.51.100.20";

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test]
async fn one_address_flooding_sign_ins_is_cut_off_before_hashing_and_others_are_not() {
    let app = spawn_app_with(|c| {
        behind_a_proxy(c);
        c.limits.auth_address_max = 10;
        c.limits.auth_address_window = Duration::from_secs(3600);
        c.hash_concurrency = 1;
    })
    .await;
    let phone = random_phone();
    app.register(&phone, "王小明").await;

    // 40 sign-ins with unknown phones at once, as the flood in the report did.
    let phones: Vec<String> = (0..40).map(|_| random_phone()).collect();
    let flood = phones.iter().map(|p| app.login_from(FLOOD, p, PASSWORD));
    let statuses: Vec<u16> = join_all(flood)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert!(
        count(&statuses, 401) <= 10,
        "at most the budget is hashed: {statuses:?}"
    );
    assert_eq!(
        count(&statuses, 401) + count(&statuses, 429),
        40,
        "never 503: {statuses:?}"
    );

    // The flooding address is refused on every sign-in route, right password or not.
    assert_rate_limited(app.login_from(FLOOD, &phone, PASSWORD).await, 3600).await;
    let signup = json!({"phone": random_phone(), "password": PASSWORD, "name": "王"});
    assert_rate_limited(app.post_from(FLOOD, "/api/v1/auth/register", &signup).await, 3600).await;
    let owner = app.login_from(OWNER, &phone, PASSWORD).await;
    assert_eq!(owner.status(), StatusCode::OK, "another address signs in");
    // A refresh hashes nothing and has budgets of its own (tests/refresh_budgets.rs): the
    // workers behind the flooding address's Wi-Fi keep their sessions.
    let tokens: Value = owner.json().await.unwrap();
    let refresh = app
        .refresh_from(FLOOD, tokens["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(refresh.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_forwarded_for_header_from_an_untrusted_peer_changes_nothing() {
    // No trusted proxies (the default): the TCP peer is the client, whatever it claims.
    let app = spawn_app_with(|c| c.limits.auth_address_max = 5).await;
    let phones: Vec<String> = (0..12).map(|_| random_phone()).collect();
    let mut statuses = Vec::new();
    for (i, phone) in phones.iter().enumerate() {
        let spoofed = format!("198.51.100.{i}");
        statuses.push(app.login_from(&spoofed, phone, PASSWORD).await.status().as_u16());
    }
    assert_eq!(count(&statuses, 401), 5, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 7, "{statuses:?}");
}

#[tokio::test]
async fn wrong_passwords_from_one_address_do_not_lock_the_owner_out_elsewhere() {
    let app = spawn_app_with(behind_a_proxy).await;
    let phone = random_phone();
    app.register(&phone, "柜员小李").await;
    for _ in 0..5 {
        let wrong = app.login_from(FLOOD, &phone, "not-the-password").await;
        assert_problem(wrong, 401, "INVALID_CREDENTIALS").await;
    }
    // The stranger is stopped, even with the right password…
    assert_rate_limited(app.login_from(FLOOD, &phone, PASSWORD).await, 900).await;
    // …and the owner at the counter signs in as usual.
    let owner = app.login_from(OWNER, &phone, PASSWORD).await;
    assert_eq!(owner.status(), StatusCode::OK);
}

#[tokio::test]
async fn guessing_one_phone_from_many_addresses_meets_a_higher_ceiling_per_phone() {
    let app = spawn_app_with(|c| {
        behind_a_proxy(c);
        c.limits.login_phone_max_attempts = 8;
    })
    .await;
    let phone = random_phone();
    app.register(&phone, "王小明").await;
    for i in 0..8 {
        let wrong = app
            .login_from(&format!("203.0.113.{}", 10 + i), &phone, "guess-guess")
            .await;
        assert_problem(wrong, 401, "INVALID_CREDENTIALS").await;
    }
    let next = app.login_from("203.0.113.99", &phone, "guess-guess").await;
    assert_problem(next, 429, "RATE_LIMITED").await;
}

#[tokio::test]
async fn weak_passwords_are_refused_naming_the_password() {
    let app = spawn_app().await;
    let platform = app.platform_admin().await;
    let union = app.union(&platform.access, "台州市总工会", None, "331000").await;
    for weak in ["12345678", "        ", "aaaaaaaa", "password"] {
        let signup = json!({"phone": random_phone(), "password": weak, "name": "王小明"});
        let staff = json!({"phone": random_phone(), "password": weak, "name": "柜员", "role": "union_admin", "union_id": union});
        for resp in [
            app.post("/api/v1/auth/register", &signup).await,
            app.post_auth("/api/v1/admin/staff", &platform.access, &staff)
                .await,
        ] {
            let problem = assert_problem(resp, 400, "INVALID_REQUEST").await;
            assert_eq!(problem["errors"][0]["field"], "password", "{weak:?}: {problem}");
        }
    }
    // A long passphrase is fine.
    let ok = json!({"phone": random_phone(), "password": "蓝色的快递车-42", "name": "王小明"});
    assert_eq!(
        app.post("/api/v1/auth/register", &ok).await.status(),
        StatusCode::CREATED
    );
}

async fn lookup(app: &TestApp, token: &str, code: &str) -> Response {
    app.post_auth("/api/v1/counter/lookups", token, &json!({"code": code}))
        .await
}

#[tokio::test]
async fn concurrent_guesses_are_held_to_the_limit_and_then_even_a_real_code_waits() {
    let app = spawn_app_with(|c| c.limits.code_guess_max = 10).await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let rider = app.riders(1).await.remove(0);
    let voucher: Value = app.claim(&campaign, &rider.access).await.json().await.unwrap();
    let real = voucher["code"].as_str().unwrap();
    let counter = &w.luqiao_counter.access;

    // 40 unknown codes at once, with the real code among them.
    let guesses: Vec<String> = (0..40).map(|i| format!("{i:016}")).collect();
    let mut codes: Vec<&str> = guesses.iter().map(String::as_str).collect();
    for at in [5, 15, 25, 35] {
        codes.insert(at, real);
    }
    let statuses: Vec<u16> = join_all(codes.iter().map(|code| lookup(&app, counter, code)))
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert!(
        count(&statuses, 404) <= 10,
        "at most the limit is evaluated: {statuses:?}"
    );
    assert!(count(&statuses, 200) <= 4, "{statuses:?}");
    assert_eq!(
        count(&statuses, 200) + count(&statuses, 404) + count(&statuses, 429),
        44,
        "{statuses:?}"
    );

    // Past the limit even the real code waits, at lookup and at redemption.
    assert_problem(lookup(&app, counter, real).await, 429, "RATE_LIMITED").await;
    let redeem = json!({"code": real, "station_id": w.luqiao_station});
    assert_problem(
        app.post_auth("/api/v1/counter/redemptions", counter, &redeem)
            .await,
        429,
        "RATE_LIMITED",
    )
    .await;
}

#[tokio::test]
async fn ten_honest_typos_do_not_lock_a_counter_out() {
    // Default limit (30 per 10 minutes): a busy distribution day has typos.
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let rider = app.riders(1).await.remove(0);
    let voucher: Value = app.claim(&campaign, &rider.access).await.json().await.unwrap();
    for i in 0..10 {
        let typo = lookup(&app, &w.luqiao_counter.access, &format!("{i:016}")).await;
        assert_problem(typo, 404, "VOUCHER_NOT_FOUND").await;
    }
    let found = lookup(&app, &w.luqiao_counter.access, voucher["code"].as_str().unwrap()).await;
    assert_eq!(found.status(), StatusCode::OK);
}
