#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready: serde_json::Value = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["database"], "ok");
    assert_eq!(ready["status"], "ready");
    if redis_url().is_some() {
        assert_eq!(ready["redis"], "ok");
    }
}

#[tokio::test]
async fn sqlite_keeps_a_generated_jwt_secret_across_restarts() {
    let (mut config, dir) = fresh_config();
    if config.database_url.is_postgres() {
        // PostgreSQL requires JWT_SECRET; generation is a SQLite-mode feature.
        config.jwt_secret = None;
        assert!(zhijian::startup::Application::build(config).await.is_err());
        return;
    }
    config.jwt_secret = None;
    let first = start(config.clone(), None).await;
    let (_, tokens) = first.worker().await;
    let second = start(config, dir).await;
    let resp = second.get_auth("/api/v1/me", &tokens.access).await;
    assert_eq!(resp.status(), StatusCode::OK);
}
