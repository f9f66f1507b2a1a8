//! A request's first session check made in the statement that reads the worker's standing
//! (issue 16): the eligibility check and a claim without a key settle the session there,
//! before anything is answered or written, with the answers a check of its own gives. The
//! riders here are minted straight in the database, so no instance remembers their
//! sessions: every request below takes that path.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use common::*;
use serde_json::Value;

/// The token's user and session ids (`sub`, `sid`).
fn ids(access: &str) -> (String, String) {
    use base64::Engine;
    let payload = access.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: Value = serde_json::from_slice(&bytes).unwrap();
    (
        claims["sub"].as_str().unwrap().to_owned(),
        claims["sid"].as_str().unwrap().to_owned(),
    )
}

/// A claim (first: on PostgreSQL a live session's check is remembered after it), a claim
/// with a body that is not `{}`, the eligibility check, and both for a campaign that does
/// not exist all get `status`/`code`; and no voucher was written.
async fn refused_everywhere(
    app: &TestApp,
    campaign: &str,
    admin: &str,
    token: &str,
    status: u16,
    code: &str,
) {
    assert_problem(app.claim(campaign, token).await, status, code).await;
    let bad_body = app
        .post_auth(
            &format!("/api/v1/campaigns/{campaign}/claims"),
            token,
            &serde_json::json!({"user_id": "someone else"}),
        )
        .await;
    assert_problem(bad_body, status, code).await;
    let eligibility = format!("/api/v1/campaigns/{campaign}/eligibility");
    assert_problem(app.get_auth(&eligibility, token).await, status, code).await;
    let nowhere = "01900000-0000-7000-8000-000000000000";
    assert_problem(app.claim(nowhere, token).await, status, code).await;
    let nowhere = format!("/api/v1/campaigns/{nowhere}/eligibility");
    assert_problem(app.get_auth(&nowhere, token).await, status, code).await;
    assert_eq!(app.stats(campaign, admin).await["claimed"], 0);
}

#[tokio::test]
async fn revoked_disabled_and_must_change_password_are_refused_before_any_answer() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 10).await;
    let admin = &w.luqiao_admin.access;
    let mut riders = app.riders(3).await.into_iter();

    let revoked = riders.next().unwrap();
    let (_, session) = ids(&revoked.access);
    app.sql(&format!(
        "UPDATE sessions SET revoked_at = created_at WHERE id = '{session}'"
    ));
    refused_everywhere(&app, &campaign, admin, &revoked.access, 401, "TOKEN_REVOKED").await;

    let disabled = riders.next().unwrap();
    let (user, _) = ids(&disabled.access);
    app.sql(&format!(
        "UPDATE users SET disabled_at = created_at WHERE id = '{user}'"
    ));
    refused_everywhere(&app, &campaign, admin, &disabled.access, 401, "TOKEN_REVOKED").await;

    let reset = riders.next().unwrap();
    let (user, _) = ids(&reset.access);
    app.sql(&format!(
        "UPDATE users SET password_change_required = TRUE WHERE id = '{user}'"
    ));
    refused_everywhere(
        &app,
        &campaign,
        admin,
        &reset.access,
        403,
        "PASSWORD_CHANGE_REQUIRED",
    )
    .await;
}

#[tokio::test]
async fn a_session_that_does_not_exist_is_invalid_and_staff_are_forbidden() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 10).await;
    let admin = &w.luqiao_admin.access;

    let gone = app.riders(1).await.remove(0);
    let (_, session) = ids(&gone.access);
    app.sql(&format!(
        "DELETE FROM refresh_tokens WHERE session_id = '{session}'"
    ));
    app.sql(&format!("DELETE FROM sessions WHERE id = '{session}'"));
    refused_everywhere(&app, &campaign, admin, &gone.access, 401, "TOKEN_INVALID").await;

    // A counter's live session: the route is for workers.
    refused_everywhere(&app, &campaign, admin, &w.luqiao_counter.access, 403, "FORBIDDEN").await;
}

#[tokio::test]
async fn a_live_first_check_answers_and_claims_as_before() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 10).await;
    let rider = app.riders(1).await.remove(0);

    let nowhere = "/api/v1/campaigns/01900000-0000-7000-8000-000000000000/eligibility";
    assert_problem(app.get_auth(nowhere, &rider.access).await, 404, "NOT_FOUND").await;
    let eligibility = format!("/api/v1/campaigns/{campaign}/eligibility");
    let body: Value = app
        .get_auth(&eligibility, &rider.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["eligible"], true, "{body}");
    let resp = app.claim(&campaign, &rider.access).await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    assert_eq!(app.stats(&campaign, &w.luqiao_admin.access).await["claimed"], 1);
}
