#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use common::*;
use jsonwebtoken::{encode, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::json;

fn claims_for(access: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = access.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn no_token_is_unauthenticated() {
    let app = spawn_app().await;
    let resp = app.client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_problem(resp, 401, "UNAUTHENTICATED").await;
}

#[tokio::test]
async fn an_expired_token_says_so() {
    let app = spawn_app().await;
    let (_, tokens) = app.worker().await;
    let mut claims = claims_for(&tokens.access);
    let now = chrono::Utc::now().timestamp();
    claims["iat"] = json!(now - 3600);
    claims["exp"] = json!(now - 1800);
    let expired = encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(TEST_JWT_SECRET.as_bytes()),
    )
    .unwrap();
    assert_problem(app.get_auth("/api/v1/me", &expired).await, 401, "TOKEN_EXPIRED").await;
}

#[tokio::test]
async fn tampered_and_forged_tokens_are_invalid() {
    let app = spawn_app().await;
    let (_, tokens) = app.worker().await;
    let claims = claims_for(&tokens.access);

    let mut promoted = claims.clone();
    promoted["role"] = json!("platform_admin");
    let parts: Vec<&str> = tokens.access.split('.').collect();
    use base64::Engine;
    let forged_payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(promoted.to_string());
    let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    assert_problem(app.get_auth("/api/v1/me", &tampered).await, 401, "TOKEN_INVALID").await;

    let other_key = encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(b"another-secret-another-secret-xx"),
    )
    .unwrap();
    assert_problem(app.get_auth("/api/v1/me", &other_key).await, 401, "TOKEN_INVALID").await;

    let none_header =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let alg_none = format!("{}.{}.", none_header, parts[1]);
    assert_problem(app.get_auth("/api/v1/me", &alg_none).await, 401, "TOKEN_INVALID").await;

    assert_problem(app.get_auth("/api/v1/me", "garbage").await, 401, "TOKEN_INVALID").await;
    let basic = app
        .client
        .get(app.url("/api/v1/me"))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_problem(basic, 401, "TOKEN_INVALID").await;
}

#[tokio::test]
async fn refresh_rotates_and_each_token_works_once() {
    let app = spawn_app().await;
    let (_, first) = app.worker().await;
    let second = app.refresh_ok(&first.refresh).await;
    assert_ne!(second.refresh, first.refresh);
    let third = app.refresh_ok(&second.refresh).await;
    assert_eq!(
        app.get_auth("/api/v1/me", &third.access).await.status(),
        StatusCode::OK
    );
    assert_problem(app.refresh("zjr_not-a-real-token").await, 401, "TOKEN_INVALID").await;
}

#[tokio::test]
async fn reusing_a_rotated_token_revokes_the_whole_family() {
    let app = spawn_app().await;
    let (_, first) = app.worker().await;
    let second = app.refresh_ok(&first.refresh).await;
    let third = app.refresh_ok(&second.refresh).await;

    // `first` was rotated and its successor used: only a thief can be presenting it.
    assert_problem(app.refresh(&first.refresh).await, 401, "REFRESH_TOKEN_REUSED").await;
    assert_problem(app.refresh(&third.refresh).await, 401, "TOKEN_REVOKED").await;
    assert_problem(
        app.get_auth("/api/v1/me", &third.access).await,
        401,
        "TOKEN_REVOKED",
    )
    .await;
}

#[tokio::test]
async fn reuse_after_the_grace_period_revokes_too() {
    let app = spawn_app_with(|c| c.limits.refresh_retry_grace = std::time::Duration::ZERO).await;
    let (_, first) = app.worker().await;
    let second = app.refresh_ok(&first.refresh).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_problem(app.refresh(&first.refresh).await, 401, "REFRESH_TOKEN_REUSED").await;
    assert_problem(app.refresh(&second.refresh).await, 401, "TOKEN_REVOKED").await;
}

#[tokio::test]
async fn a_lost_refresh_answer_can_be_retried() {
    let app = spawn_app().await;
    let (_, first) = app.worker().await;
    let lost = app.refresh_ok(&first.refresh).await;
    // The phone never saw `lost` and retries with the same token.
    let retried = app.refresh_ok(&first.refresh).await;
    assert_eq!(
        app.get_auth("/api/v1/me", &retried.access).await.status(),
        StatusCode::OK
    );
    let next = app.refresh_ok(&retried.refresh).await;
    // Every answer the retries produced stays usable (contract v1.1): if the lost one
    // surfaces after all, it refreshes too and the session lives on.
    let surfaced = app.refresh_ok(&lost.refresh).await;
    for tokens in [&next, &surfaced] {
        assert_eq!(
            app.get_auth("/api/v1/me", &tokens.access).await.status(),
            StatusCode::OK
        );
    }
    // The token both retries started from is spent now that a child was used.
    assert_problem(app.refresh(&first.refresh).await, 401, "REFRESH_TOKEN_REUSED").await;
}

#[tokio::test]
async fn concurrent_refreshes_never_fork_a_session_silently() {
    let app = spawn_app_with(|c| c.limits.refresh_retry_grace = std::time::Duration::ZERO).await;
    let (_, first) = app.worker().await;
    let attempts = (0..8).map(|_| app.refresh(&first.refresh));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
}

#[tokio::test]
async fn logout_revokes_the_session() {
    let app = spawn_app().await;
    let (phone, tokens) = app.worker().await;
    let other = app.login_ok(&phone).await;
    let resp = app.logout(&tokens.refresh).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.get_auth("/api/v1/me", &tokens.access).await,
        401,
        "TOKEN_REVOKED",
    )
    .await;
    assert_problem(app.refresh(&tokens.refresh).await, 401, "TOKEN_REVOKED").await;
    // Other devices stay signed in; logging out twice is fine.
    assert_eq!(
        app.get_auth("/api/v1/me", &other.access).await.status(),
        StatusCode::OK
    );
    let again = app.logout(&tokens.refresh).await;
    assert_eq!(again.status(), StatusCode::NO_CONTENT);
}
