//! A worker's self-service password reset (issue 12; contract v1.1 "The union office"): a
//! 6-digit code goes to the notification gateway (a receiver this test runs), never to the
//! inbox; the right code sets a new password and ends every session; a wrong, used or
//! retired code is `INVALID_CODE`, and five wrong tries retire a code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use common::jobs::*;
use common::readable::assert_invalid;
use common::receiver::*;
use common::*;
use reqwest::Response;
use serde_json::{json, Value};

const NEW_PASSWORD: &str = "fresh-lantern-77";

/// An app whose notification gateway is `receiver`.
async fn app_with_gateway(receiver: &Receiver) -> TestApp {
    let (secret, _) = secret();
    spawn_app_with(|c| {
        fast_jobs(c);
        c.jobs.notify_webhook_url = Some(receiver.url.clone());
        c.jobs.notify_webhook_secret = Some(secret);
    })
    .await
}

async fn request_reset(app: &TestApp, phone: &str) {
    let resp = app
        .post("/api/v1/auth/password-reset", &json!({"phone": phone}))
        .await;
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 202, "{body}");
    assert!(body["message"].is_string(), "{body}");
}

async fn confirm(app: &TestApp, phone: &str, code: &str, new_password: &str) -> Response {
    let body = json!({"phone": phone, "code": code, "new_password": new_password});
    app.post("/api/v1/auth/password-reset/confirm", &body).await
}

/// The reset messages the gateway was given for `phone`, in the order they came.
fn reset_messages(receiver: &Receiver, phone: &str) -> Vec<Value> {
    receiver
        .deliveries()
        .iter()
        .filter(|d| d.answered == 200)
        .map(Delivery::payload)
        .filter(|p| p["type"] == "password_reset_code" && p["data"]["phone"] == phone)
        .collect()
}

/// The `n`th (from 1) reset message for `phone`, once it has reached the gateway.
async fn nth_message(receiver: &Receiver, phone: &str, n: usize) -> Value {
    eventually(10, "the reset code reaches the gateway", move || async move {
        reset_messages(receiver, phone).get(n - 1).cloned()
    })
    .await
}

fn code_of(message: &Value) -> String {
    let code = message["data"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no code: {message}"));
    assert!(
        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "not 6 digits: {message}"
    );
    code.to_owned()
}

/// A 6-digit code that is not `code` (a different one for each `i` below 999 999).
fn wrong(code: &str, i: u32) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1 + i) % 1_000_000)
}

#[tokio::test]
async fn a_worker_resets_the_password_with_the_code_from_the_gateway() {
    let receiver = Receiver::start();
    let app = app_with_gateway(&receiver).await;
    let (phone, tokens) = app.worker().await;
    let me = app.me(&tokens.access).await;

    request_reset(&app, &phone).await;
    let message = nth_message(&receiver, &phone, 1).await;
    assert_eq!(message["data"]["kind"], "password_reset_code", "{message}");
    assert_eq!(message["data"]["user_id"], me["id"], "{message}");
    let code = code_of(&message);
    let body = message["data"]["body"].as_str().unwrap();
    assert!(
        body.contains(&code),
        "the text message carries the code: {message}"
    );

    // The code goes to the phone only, never to the inbox.
    let inbox = app.inbox(&tokens.access).await;
    for n in &inbox {
        assert_ne!(n["kind"], "password_reset_code", "{n}");
        for field in ["title", "body"] {
            let text = n[field].as_str().unwrap_or_default();
            assert!(!text.contains(&code), "the code in the inbox: {n}");
        }
    }

    let malformed = confirm(&app, &phone, "12345", NEW_PASSWORD).await;
    assert_invalid(malformed, "code", "a code of five digits").await;
    let resp = confirm(&app, &phone, &wrong(&code, 0), NEW_PASSWORD).await;
    assert_problem(resp, 400, "INVALID_CODE").await;
    let resp = confirm(&app, &phone, &code, NEW_PASSWORD).await;
    assert_eq!(resp.status().as_u16(), 204, "{}", resp.text().await.unwrap());

    // Every session ended; only the new password signs in.
    let old = app.get_auth("/api/v1/me", &tokens.access).await;
    assert_problem(old, 401, "TOKEN_REVOKED").await;
    assert_problem(app.refresh(&tokens.refresh).await, 401, "TOKEN_REVOKED").await;
    assert_problem(app.login(&phone, PASSWORD).await, 401, "INVALID_CREDENTIALS").await;
    let signed_in = app.login(&phone, NEW_PASSWORD).await;
    assert_eq!(signed_in.status().as_u16(), 200);

    // A code works once.
    let again = confirm(&app, &phone, &code, "another-lantern-88").await;
    assert_problem(again, 400, "INVALID_CODE").await;
    assert_eq!(app.login(&phone, NEW_PASSWORD).await.status().as_u16(), 200);
}

#[tokio::test]
async fn an_unknown_or_staff_phone_is_answered_alike_and_gets_no_code() {
    let receiver = Receiver::start();
    let app = app_with_gateway(&receiver).await;
    let w = app.world().await;
    let staff_phone = app.me(&w.luqiao_counter.access).await["phone"]
        .as_str()
        .unwrap()
        .to_owned();
    let unknown = random_phone();
    request_reset(&app, &unknown).await;
    request_reset(&app, &staff_phone).await;

    // A worker's request made after them has come through, so theirs had their chance.
    let (phone, _) = app.worker().await;
    request_reset(&app, &phone).await;
    nth_message(&receiver, &phone, 1).await;
    settle().await;
    assert!(reset_messages(&receiver, &unknown).is_empty());
    assert!(reset_messages(&receiver, &staff_phone).is_empty());
    let resp = confirm(&app, &unknown, "123456", NEW_PASSWORD).await;
    assert_problem(resp, 400, "INVALID_CODE").await;
    // The counter still signs in as before.
    assert_eq!(app.login(&staff_phone, PASSWORD).await.status().as_u16(), 200);
}

#[tokio::test]
async fn five_wrong_codes_retire_the_code() {
    let receiver = Receiver::start();
    let app = app_with_gateway(&receiver).await;
    let (phone, tokens) = app.worker().await;
    request_reset(&app, &phone).await;
    let code = code_of(&nth_message(&receiver, &phone, 1).await);

    for i in 0..5 {
        let resp = confirm(&app, &phone, &wrong(&code, i), NEW_PASSWORD).await;
        assert_problem(resp, 400, "INVALID_CODE").await;
    }
    let resp = confirm(&app, &phone, &code, NEW_PASSWORD).await;
    assert_problem(resp, 400, "INVALID_CODE").await;

    // Nothing changed: the old password and the session still work.
    app.me(&tokens.access).await;
    assert_eq!(app.login(&phone, PASSWORD).await.status().as_u16(), 200);
    let new = app.login(&phone, NEW_PASSWORD).await;
    assert_problem(new, 401, "INVALID_CREDENTIALS").await;
}

#[tokio::test]
async fn a_second_request_retires_the_first_code() {
    let receiver = Receiver::start();
    let app = app_with_gateway(&receiver).await;
    let (phone, _) = app.worker().await;
    request_reset(&app, &phone).await;
    let first = code_of(&nth_message(&receiver, &phone, 1).await);
    request_reset(&app, &phone).await;
    let second = code_of(&nth_message(&receiver, &phone, 2).await);
    assert_ne!(first, second, "two resets, two codes");

    let resp = confirm(&app, &phone, &first, NEW_PASSWORD).await;
    assert_problem(resp, 400, "INVALID_CODE").await;
    let resp = confirm(&app, &phone, &second, NEW_PASSWORD).await;
    assert_eq!(resp.status().as_u16(), 204, "{}", resp.text().await.unwrap());
    assert_eq!(app.login(&phone, NEW_PASSWORD).await.status().as_u16(), 200);
}
