//! The short memory of session checks (issue 16): on PostgreSQL an instance answers a
//! repeated check from memory, and a logout or a password change ends the session at once
//! on this instance and, by the database's announcement, on every other one. SQLite
//! instances never remember a check.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;
use serde_json::json;

/// How many session checks `app` answered from memory (`zhijian_session_checks_total`).
async fn remembered(app: &TestApp) -> f64 {
    app.text("/metrics")
        .await
        .lines()
        .find_map(|l| l.strip_prefix("zhijian_session_checks_total{outcome=\"cache\"}"))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

/// Uses `token` at `app` until a check is answered from memory (PostgreSQL, once its
/// listener listens) or, on SQLite, a few times; then asserts which it was.
async fn use_until_remembered(app: &TestApp, token: &str) {
    let postgres = app.config.database_url.is_postgres();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let resp = app.get_auth("/api/v1/me", token).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let hits = remembered(app).await;
        if !postgres {
            if Instant::now() + Duration::from_secs(4) > deadline {
                assert_eq!(hits, 0.0, "SQLite instances never answer from memory");
                return;
            }
        } else if hits > 0.0 {
            return;
        }
        assert!(Instant::now() < deadline, "no session check answered from memory");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls `/me` at `app` with `token` until it is refused as revoked; how long that took.
async fn refused_within(app: &TestApp, token: &str, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let resp = app.get_auth("/api/v1/me", token).await;
        if resp.status() == StatusCode::UNAUTHORIZED {
            assert_problem(resp, 401, "TOKEN_REVOKED").await;
            return start.elapsed();
        }
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(
            start.elapsed() < limit,
            "the revoked session was still served after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_remembered_session_ends_with_logout_at_once() {
    let app = spawn_app().await;
    let (_, tokens) = app.worker().await;
    use_until_remembered(&app, &tokens.access).await;
    let resp = app
        .post("/api/v1/auth/logout", &json!({"refresh_token": tokens.refresh}))
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    // The very next request, on the same instance: no waiting for the announcement.
    assert_problem(
        app.get_auth("/api/v1/me", &tokens.access).await,
        401,
        "TOKEN_REVOKED",
    )
    .await;
}

#[tokio::test]
async fn logout_at_one_instance_ends_the_session_at_every_instance() {
    let first = spawn_app().await;
    let second = start(first.config.clone(), None).await;
    let (_, tokens) = first.worker().await;
    use_until_remembered(&second, &tokens.access).await;
    let resp = first
        .post("/api/v1/auth/logout", &json!({"refresh_token": tokens.refresh}))
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    // Well inside the 5 s a remembered check may live: the announcement ended it.
    let took = refused_within(&second, &tokens.access, Duration::from_secs(1)).await;
    println!("the other instance refused the session after {took:?}");
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions_at_every_instance() {
    let first = spawn_app().await;
    let second = start(first.config.clone(), None).await;
    let (phone, kept) = first.worker().await;
    let other = first.login_ok(&phone).await;
    use_until_remembered(&second, &other.access).await;
    let change = json!({"current_password": PASSWORD, "new_password": "Another-pass-2026"});
    let resp = first
        .post_auth("/api/v1/me/password", &kept.access, &change)
        .await;
    assert!(resp.status().is_success(), "password change: {}", resp.status());
    refused_within(&second, &other.access, Duration::from_secs(1)).await;
    // The session that changed the password stays signed in, at both instances.
    assert_eq!(
        second.get_auth("/api/v1/me", &kept.access).await.status(),
        StatusCode::OK
    );
}
