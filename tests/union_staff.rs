//! The union office and its staff (issue 12; contract v1.1 "The union office"): the
//! office lists its own staff with phones masked, renames and rebinds counters, disables an
//! account (which signs it out at once), resets a password to a temporary one that must be
//! changed first; and anyone changing their own password ends their other sessions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use common::readable::assert_invalid;
use common::*;
use reqwest::Response;
use serde_json::{json, Value};

const NEW_PASSWORD: &str = "fresh-lantern-77";
/// Well formed, but no voucher has it: a counter route that answers 404 when all is well.
const UNKNOWN_CODE: &str = "0000-0000-0000-0000";

/// An account's id and full phone, from its own `GET /me`.
async fn who(app: &TestApp, token: &str) -> (String, String) {
    let me = app.me(token).await;
    let text = |field: &str| me[field].as_str().unwrap().to_owned();
    (text("id"), text("phone"))
}

/// How the office shows a phone: "139****1234".
fn masked(phone: &str) -> String {
    format!("{}****{}", &phone[..3], &phone[7..])
}

async fn staff_list(app: &TestApp, admin: &str) -> Vec<Value> {
    let page = app.read_ok("/api/v1/admin/staff?limit=100", admin).await;
    page["items"].as_array().unwrap().clone()
}

fn listed<'a>(items: &'a [Value], id: &str) -> Option<&'a Value> {
    items.iter().find(|s| s["id"] == id)
}

async fn edit(app: &TestApp, admin: &str, id: &str, body: Value) -> Response {
    app.patch_auth(&format!("/api/v1/admin/staff/{id}"), admin, &body)
        .await
}

async fn ok(resp: Response) -> Value {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

fn sorted(ids: &Value) -> Vec<String> {
    let mut ids: Vec<String> = ids
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {ids}"))
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// The admin's reset: a POST without a body.
async fn reset_password(app: &TestApp, admin: &str, id: &str) -> Response {
    let path = format!("/api/v1/admin/staff/{id}/password-reset");
    app.client
        .post(app.url(&path))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap()
}

async fn change_password(app: &TestApp, token: &str, current: &str, new: &str) -> Response {
    let body = json!({"current_password": current, "new_password": new});
    app.post_auth("/api/v1/me/password", token, &body).await
}

async fn lookup(app: &TestApp, token: &str) -> Response {
    let body = json!({"code": UNKNOWN_CODE});
    app.post_auth("/api/v1/counter/lookups", token, &body).await
}

/// A 200 sign-in: its body and its tokens.
async fn signed_in(resp: Response) -> (Value, Tokens) {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    let token = |field: &str| body[field].as_str().unwrap().to_owned();
    let tokens = Tokens {
        access: token("access_token"),
        refresh: token("refresh_token"),
    };
    (body, tokens)
}

#[tokio::test]
async fn the_office_lists_its_own_staff_with_phones_masked_and_no_other_districts() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (counter_id, counter_phone) = who(&app, &w.luqiao_counter.access).await;
    let (admin_id, _) = who(&app, &w.luqiao_admin.access).await;
    let (other_counter_id, _) = who(&app, &w.jiaojiang_counter.access).await;

    let ours = staff_list(&app, &w.luqiao_admin.access).await;
    let counter = listed(&ours, &counter_id).unwrap_or_else(|| panic!("no counter: {ours:?}"));
    assert_eq!(
        counter["phone_masked"],
        masked(&counter_phone).as_str(),
        "{counter}"
    );
    assert!(counter["phone_masked"].as_str().unwrap().starts_with("139****"));
    assert!(counter.get("phone").is_none(), "never the full number: {counter}");
    assert_eq!(counter["role"], "counter");
    assert_eq!(counter["union_id"], w.luqiao.as_str());
    assert_eq!(counter["station_ids"], json!([w.luqiao_station]));
    assert_eq!(counter["disabled"], false);
    let admin = listed(&ours, &admin_id).unwrap_or_else(|| panic!("no admin: {ours:?}"));
    assert_eq!(admin["role"], "union_admin");
    assert_eq!(admin["station_ids"], json!([]));
    assert!(
        listed(&ours, &other_counter_id).is_none(),
        "椒江's counter: {ours:?}"
    );

    // 椒江's admin sees its own counter and nobody of 路桥.
    let theirs = staff_list(&app, &w.jiaojiang_admin.access).await;
    assert!(listed(&theirs, &other_counter_id).is_some(), "{theirs:?}");
    assert!(listed(&theirs, &counter_id).is_none(), "{theirs:?}");
    assert!(listed(&theirs, &admin_id).is_none(), "{theirs:?}");

    // The city's admin covers both districts.
    let city_admin = app.staff(&w.platform.access, "union_admin", &w.city, &[]).await;
    let city = staff_list(&app, &city_admin.access).await;
    for id in [&counter_id, &admin_id, &other_counter_id] {
        assert!(listed(&city, id).is_some(), "{id}: {city:?}");
    }
}

#[tokio::test]
async fn the_office_renames_a_counter_and_rebinds_it_to_stations_of_its_own_union() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = w.luqiao_admin.access.as_str();
    let (counter_id, _) = who(&app, &w.luqiao_counter.access).await;
    let stations = json!([w.luqiao_station_2, w.luqiao_station]);
    let expected = sorted(&stations);
    let body = json!({"name": "李柜员", "station_ids": stations});
    let edited = ok(edit(&app, admin, &counter_id, body).await).await;
    assert_eq!(edited["id"], counter_id.as_str());
    assert_eq!(edited["name"], "李柜员");
    assert_eq!(edited["disabled"], false);
    assert_eq!(sorted(&edited["station_ids"]), expected);

    // The counter keeps working, and sees the change itself; so does the list.
    let me = app.me(&w.luqiao_counter.access).await;
    assert_eq!(me["name"], "李柜员");
    let mine: Vec<Value> = me["stations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].clone())
        .collect();
    assert_eq!(sorted(&Value::Array(mine)), expected, "{me}");
    let list = staff_list(&app, admin).await;
    assert_eq!(
        sorted(&listed(&list, &counter_id).unwrap()["station_ids"]),
        expected
    );

    // 椒江's station is not 路桥's to give; an empty list leaves the counter nowhere.
    let elsewhere = json!({"name": "王柜员", "station_ids": [w.jiaojiang_station]});
    let resp = edit(&app, admin, &counter_id, elsewhere).await;
    assert_invalid(resp, "station_ids[0]", "another district's station").await;
    let none = edit(&app, admin, &counter_id, json!({"station_ids": []})).await;
    assert_invalid(none, "station_ids", "no station at all").await;
    let list = staff_list(&app, admin).await;
    let unchanged = listed(&list, &counter_id).unwrap();
    assert_eq!(unchanged["name"], "李柜员", "a refused edit changes nothing");
    assert_eq!(sorted(&unchanged["station_ids"]), expected);

    // Only counters have stations.
    let (admin_id, _) = who(&app, admin).await;
    let resp = edit(&app, admin, &admin_id, json!({"station_ids": [w.luqiao_station]})).await;
    assert_invalid(resp, "station_ids", "stations for a union admin").await;

    // Another district's admin does not find 路桥's counter; a worker is nobody's staff.
    let resp = edit(
        &app,
        &w.jiaojiang_admin.access,
        &counter_id,
        json!({"name": "越界"}),
    )
    .await;
    assert_problem(resp, 404, "NOT_FOUND").await;
    let (_, worker) = app.worker().await;
    let (worker_id, _) = who(&app, &worker.access).await;
    let resp = edit(&app, admin, &worker_id, json!({"name": "越界"})).await;
    assert_problem(resp, 404, "NOT_FOUND").await;
}

#[tokio::test]
async fn a_disabled_counter_is_signed_out_at_once_and_cannot_sign_in_until_enabled() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = w.luqiao_admin.access.as_str();
    let counter = &w.luqiao_counter;
    let (counter_id, phone) = who(&app, &counter.access).await;

    let resp = edit(
        &app,
        &w.jiaojiang_admin.access,
        &counter_id,
        json!({"disabled": true}),
    )
    .await;
    assert_problem(resp, 404, "NOT_FOUND").await;
    app.me(&counter.access).await;

    let disabled = ok(edit(&app, admin, &counter_id, json!({"disabled": true})).await).await;
    assert_eq!(disabled["disabled"], true);
    // Mid-session: the very next request is refused, whichever route.
    assert_problem(lookup(&app, &counter.access).await, 401, "TOKEN_REVOKED").await;
    let me = app.get_auth("/api/v1/me", &counter.access).await;
    assert_problem(me, 401, "TOKEN_REVOKED").await;
    assert_problem(app.refresh(&counter.refresh).await, 401, "TOKEN_REVOKED").await;
    // Told only to whoever knows the password.
    assert_problem(app.login(&phone, PASSWORD).await, 403, "ACCOUNT_DISABLED").await;
    let wrong = app.login(&phone, "not-the-password-1").await;
    assert_problem(wrong, 401, "INVALID_CREDENTIALS").await;
    let list = staff_list(&app, admin).await;
    assert_eq!(listed(&list, &counter_id).unwrap()["disabled"], true);

    let enabled = ok(edit(&app, admin, &counter_id, json!({"disabled": false})).await).await;
    assert_eq!(enabled["disabled"], false);
    let again = app.login_ok(&phone).await;
    assert_eq!(lookup(&app, &again.access).await.status().as_u16(), 404);
    // The sessions ended by the disabling stay ended.
    let old = app.get_auth("/api/v1/me", &counter.access).await;
    assert_problem(old, 401, "TOKEN_REVOKED").await;
}

#[tokio::test]
async fn an_admin_cannot_disable_itself() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = w.luqiao_admin.access.as_str();
    let (admin_id, _) = who(&app, admin).await;
    let resp = edit(&app, admin, &admin_id, json!({"disabled": true})).await;
    assert_invalid(resp, "disabled", "disabling oneself").await;
    app.me(admin).await;
    let list = staff_list(&app, admin).await;
    assert_eq!(listed(&list, &admin_id).unwrap()["disabled"], false);
}

#[tokio::test]
async fn a_reset_password_must_be_changed_before_anything_else() {
    let app = spawn_app().await;
    let w = app.world().await;
    let counter = &w.luqiao_counter;
    let (counter_id, phone) = who(&app, &counter.access).await;

    let elsewhere = reset_password(&app, &w.jiaojiang_admin.access, &counter_id).await;
    assert_problem(elsewhere, 404, "NOT_FOUND").await;
    let reset = ok(reset_password(&app, &w.luqiao_admin.access, &counter_id).await).await;
    assert_eq!(reset["password_change_required"], true);
    let temporary = reset["temporary_password"].as_str().unwrap().to_owned();
    assert!(temporary.len() >= 8, "{reset}");

    // Every session ended and the old password is gone.
    let old = app.get_auth("/api/v1/me", &counter.access).await;
    assert_problem(old, 401, "TOKEN_REVOKED").await;
    assert_problem(app.login(&phone, PASSWORD).await, 401, "INVALID_CREDENTIALS").await;

    let (body, held) = signed_in(app.login(&phone, &temporary).await).await;
    assert_eq!(body["password_change_required"], true, "{body}");
    let me = app.get_auth("/api/v1/me", &held.access).await;
    assert_problem(me, 403, "PASSWORD_CHANGE_REQUIRED").await;
    let counter_route = lookup(&app, &held.access).await;
    assert_problem(counter_route, 403, "PASSWORD_CHANGE_REQUIRED").await;

    let changed = change_password(&app, &held.access, &temporary, NEW_PASSWORD).await;
    assert_eq!(changed.status().as_u16(), 204);
    // The session that changed it goes on, no longer held back.
    app.me(&held.access).await;

    let (body, fresh) = signed_in(app.login(&phone, NEW_PASSWORD).await).await;
    assert_eq!(body["password_change_required"], false, "{body}");
    app.me(&fresh.access).await;
    assert_problem(lookup(&app, &fresh.access).await, 404, "VOUCHER_NOT_FOUND").await;
    let temp_again = app.login(&phone, &temporary).await;
    assert_problem(temp_again, 401, "INVALID_CREDENTIALS").await;
}

#[tokio::test]
async fn changing_ones_own_password_ends_the_other_sessions_only() {
    let app = spawn_app().await;
    let (phone, a) = app.worker().await;
    let b = app.login_ok(&phone).await;

    let changed = change_password(&app, &a.access, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(changed.status().as_u16(), 204);
    let other = app.get_auth("/api/v1/me", &b.access).await;
    assert_problem(other, 401, "TOKEN_REVOKED").await;
    assert_problem(app.refresh(&b.refresh).await, 401, "TOKEN_REVOKED").await;
    app.me(&a.access).await;

    assert_problem(app.login(&phone, PASSWORD).await, 401, "INVALID_CREDENTIALS").await;
    let (body, _) = signed_in(app.login(&phone, NEW_PASSWORD).await).await;
    assert_eq!(body["password_change_required"], false, "{body}");

    let wrong = change_password(&app, &a.access, "not-my-password-1", "another-lantern-88").await;
    assert_invalid(wrong, "current_password", "wrong current password").await;
    let same = change_password(&app, &a.access, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_invalid(same, "new_password", "the same password again").await;
    // Neither refusal changed anything.
    app.me(&a.access).await;
    signed_in(app.login(&phone, NEW_PASSWORD).await).await;
}
