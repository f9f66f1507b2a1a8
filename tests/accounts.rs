#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn register_login_and_read_me() {
    let app = spawn_app().await;
    let phone = random_phone();
    let created = app.register(&phone, "王小明").await;
    assert_eq!(created["phone"], phone.as_str());
    assert_eq!(created["role"], "worker");
    assert!(created.get("password_hash").is_none());

    let tokens = app.login_ok(&phone).await;
    let me: serde_json::Value = app
        .get_auth("/api/v1/me", &tokens.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], created["id"]);
    assert_eq!(me["name"], "王小明");
    assert_eq!(me["occupation"], "food_delivery");
    assert_eq!(me["region_code"], "331004");
    assert_eq!(me["occupation_verified"], false);
    assert_eq!(me["hardship_archived"], false);
    assert_eq!(me["membership"]["status"], "none");
}

#[tokio::test]
async fn login_answers_with_a_bearer_pair() {
    let app = spawn_app().await;
    let phone = random_phone();
    app.register(&phone, "李建国").await;
    let body: serde_json::Value = app.login(&phone, PASSWORD).await.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["refresh_token"].as_str().unwrap().len() > 32);
}

#[tokio::test]
async fn a_phone_registers_once() {
    let app = spawn_app().await;
    let phone = random_phone();
    app.register(&phone, "王小明").await;
    let again = app
        .post(
            "/api/v1/auth/register",
            &json!({"phone": format!("+86 {phone}"), "password": PASSWORD, "name": "冒名"}),
        )
        .await;
    assert_problem(again, 409, "PHONE_TAKEN").await;
}

#[tokio::test]
async fn registration_rejects_bad_values_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"phone": "12345", "password": PASSWORD, "name": "王"}),
            "phone",
        ),
        (
            json!({"phone": random_phone(), "password": "short", "name": "王"}),
            "password",
        ),
        (
            json!({"phone": random_phone(), "password": PASSWORD, "name": ""}),
            "name",
        ),
        (
            json!({"phone": random_phone(), "password": PASSWORD, "name": "王", "occupation": "pilot"}),
            "occupation",
        ),
        (
            json!({"phone": random_phone(), "password": PASSWORD, "name": "王", "region_code": "33"}),
            "region_code",
        ),
        (json!({"phone": random_phone(), "password": PASSWORD}), "name"),
    ];
    for (body, field) in cases {
        let problem = assert_problem(
            app.post("/api/v1/auth/register", &body).await,
            400,
            "INVALID_REQUEST",
        )
        .await;
        assert!(problem["detail"].as_str().unwrap().contains(field), "{problem}");
    }
}

#[tokio::test]
async fn mass_assignment_is_refused() {
    let app = spawn_app().await;
    let body = json!({"phone": random_phone(), "password": PASSWORD, "name": "王", "role": "platform_admin"});
    let problem = assert_problem(
        app.post("/api/v1/auth/register", &body).await,
        400,
        "INVALID_REQUEST",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("role"));

    let (_, tokens) = app.worker().await;
    for field in [
        json!({"role": "union_admin"}),
        json!({"hardship_archived": true}),
        json!({"occupation_verified": true}),
    ] {
        assert_problem(
            app.patch_auth("/api/v1/me", &tokens.access, &field).await,
            400,
            "INVALID_REQUEST",
        )
        .await;
    }
    let me: serde_json::Value = app
        .get_auth("/api/v1/me", &tokens.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "worker");
    assert_eq!(me["hardship_archived"], false);
}

#[tokio::test]
async fn wrong_password_and_unknown_phone_get_the_same_answer() {
    let app = spawn_app().await;
    let phone = random_phone();
    app.register(&phone, "王小明").await;
    let wrong = assert_problem(
        app.login(&phone, "not-the-password").await,
        401,
        "INVALID_CREDENTIALS",
    )
    .await;
    let unknown = assert_problem(
        app.login(&random_phone(), PASSWORD).await,
        401,
        "INVALID_CREDENTIALS",
    )
    .await;
    assert_eq!(wrong["title"], unknown["title"]);
    assert_eq!(wrong.get("detail"), unknown.get("detail"));
}

#[tokio::test]
async fn login_attempts_per_phone_are_limited() {
    let app = spawn_app().await;
    let phone = random_phone();
    app.register(&phone, "王小明").await;
    for _ in 0..5 {
        assert_problem(app.login(&phone, "guess-guess").await, 401, "INVALID_CREDENTIALS").await;
    }
    let limited = app.login(&phone, PASSWORD).await;
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after));
    assert_problem(limited, 429, "RATE_LIMITED").await;
    // Another phone is not affected.
    let (_, _) = app.worker().await;
}

#[tokio::test]
async fn a_successful_login_resets_the_counter() {
    let app = spawn_app().await;
    let phone = random_phone();
    app.register(&phone, "王小明").await;
    for _ in 0..4 {
        app.login(&phone, "guess-guess").await;
    }
    app.login_ok(&phone).await;
    for _ in 0..4 {
        assert_problem(app.login(&phone, "guess-guess").await, 401, "INVALID_CREDENTIALS").await;
    }
    app.login_ok(&phone).await;
}

#[tokio::test]
async fn patch_me_changes_only_what_is_sent() {
    let app = spawn_app().await;
    let (_, tokens) = app.worker().await;
    let resp = app
        .patch_auth(
            "/api/v1/me",
            &tokens.access,
            &json!({"employer": "美团", "region_code": "331002"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let me: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(me["employer"], "美团");
    assert_eq!(me["region_code"], "331002");
    assert_eq!(me["name"], "王小明");
    assert_eq!(me["occupation"], "food_delivery");

    let me: serde_json::Value = app
        .patch_auth(
            "/api/v1/me",
            &tokens.access,
            &json!({"employer": null, "occupation": "courier"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["employer"], serde_json::Value::Null);
    assert_eq!(me["occupation"], "courier");
    assert_eq!(me["occupation_verified"], false);
}
