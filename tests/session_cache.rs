//! The short memory of session checks (issue 16): on PostgreSQL an instance answers a
//! repeated check from memory; a logout ends the session at once on the instance that made
//! it, and a revocation or a disabled account committed by anyone else ends it within a
//! notification (the triggers and the listener). SQLite instances never remember a check.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;

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
    let resp = app.logout(&tokens.refresh).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    // The very next request, on the same instance: no waiting for the announcement.
    assert_problem(
        app.get_auth("/api/v1/me", &tokens.access).await,
        401,
        "TOKEN_REVOKED",
    )
    .await;
}

/// Runs `statement` on the app's database directly, as another process (another instance,
/// an operator) would: nothing in this test process hears of it but through the database's
/// announcement.
async fn elsewhere(app: &TestApp, statement: String) {
    let url = app.config.database_url.clone();
    tokio::task::spawn_blocking(move || {
        let pool = zhijian::db::connect(&url, 1).unwrap();
        let mut conn = pool.get().unwrap();
        diesel::RunQueryDsl::execute(diesel::sql_query(statement), &mut *conn).unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_session_revoked_by_another_process_is_refused_within_a_notification() {
    let app = spawn_app().await;
    let (phone, tokens) = app.worker().await;
    use_until_remembered(&app, &tokens.access).await;
    let revoke = format!(
        "UPDATE sessions SET revoked_at = CURRENT_TIMESTAMP, revoked_reason = 'logout' \
         WHERE user_id = (SELECT id FROM users WHERE phone = '{phone}')"
    );
    elsewhere(&app, revoke).await;
    // Well inside the 5 s a remembered check may live: the trigger's announcement ended it.
    let took = refused_within(&app, &tokens.access, Duration::from_secs(1)).await;
    println!("refused {took:?} after the revocation committed");
}

#[tokio::test]
async fn an_account_disabled_by_another_process_is_refused_within_a_notification() {
    let app = spawn_app().await;
    let (phone, tokens) = app.worker().await;
    use_until_remembered(&app, &tokens.access).await;
    let disable = format!("UPDATE users SET disabled_at = CURRENT_TIMESTAMP WHERE phone = '{phone}'");
    elsewhere(&app, disable).await;
    refused_within(&app, &tokens.access, Duration::from_secs(1)).await;
}
