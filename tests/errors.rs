#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use common::*;

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = spawn_app().await;
    let resp = app
        .client
        .get(app.url("/api/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 404, "NOT_FOUND").await;
    let resp = app.client.delete(app.url("/api/v1/me")).send().await.unwrap();
    assert_problem(resp, 405, "METHOD_NOT_ALLOWED").await;
}

#[tokio::test]
async fn malformed_json_is_invalid_request() {
    let app = spawn_app().await;
    let resp = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{\"phone\": ")
        .send()
        .await
        .unwrap();
    assert_problem(resp, 400, "INVALID_REQUEST").await;
    let wrong_type = app
        .post(
            "/api/v1/auth/login",
            &serde_json::json!({"phone": 13800000000u64, "password": "x"}),
        )
        .await;
    assert_problem(wrong_type, 400, "INVALID_REQUEST").await;
}

#[tokio::test]
async fn bodies_are_bounded() {
    let app = spawn_app().await;
    let huge = serde_json::json!({"phone": random_phone(), "password": "x".repeat(64 * 1024), "name": "王"});
    let resp = app.post("/api/v1/auth/register", &huge).await;
    assert_problem(resp, 413, "PAYLOAD_TOO_LARGE").await;
}

#[tokio::test]
async fn json_is_the_only_content_type() {
    let app = spawn_app().await;
    let resp = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "text/plain")
        .body("phone=1")
        .send()
        .await
        .unwrap();
    assert_problem(resp, 415, "UNSUPPORTED_MEDIA_TYPE").await;
}

#[tokio::test]
async fn every_response_has_a_request_id() {
    let app = spawn_app().await;
    let resp = app.client.get(app.url("/healthz")).send().await.unwrap();
    let id = resp.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());
}
