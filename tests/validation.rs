//! Errors a person can read (contract v1.1 "Validation errors", issue 9 fault 4): every 400
//! names its field in `errors` and `detail`, in Chinese, with no parser or serde text;
//! eligibility reasons say what actually stands in the way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use common::readable::{assert_invalid, assert_readable};
use common::world::World;
use common::*;
use serde_json::{json, Value};

/// A valid campaign of 路桥 (times in UTC, so only the field under test is wrong).
fn campaign_body(w: &World) -> Value {
    json!({
        "union_id": w.luqiao, "title": "暖心礼包", "item_name": "冬季暖心包", "total_stock": 5,
        "claim_starts_at": "2030-12-01T01:00:00Z", "claim_ends_at": "2030-12-31T15:59:59Z",
        "redeem_until": "2031-01-28T15:59:59Z", "station_ids": [w.luqiao_station], "rules": [],
    })
}

fn with(base: &Value, field: &str, value: Value) -> Value {
    let mut body = base.clone();
    body[field] = value;
    body
}

fn reason<'a>(answer: &'a Value, code: &str) -> &'a str {
    answer["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == code)
        .and_then(|r| r["message"].as_str())
        .unwrap_or_else(|| panic!("no {code} among {answer}"))
}

async fn eligibility(app: &TestApp, campaign: &str, token: &str) -> Value {
    app.get_auth(&format!("/api/v1/campaigns/{campaign}/eligibility"), token)
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_bad_campaign_field_is_named_by_its_path_in_chinese() {
    let app = spawn_app().await;
    let w = app.world().await;
    let base = campaign_body(&w);
    // (field set, to what, the path the answer must name)
    let cases = [
        ("total_stock", json!(5.5), "total_stock"),
        ("total_stock", json!("ten"), "total_stock"),
        ("title", json!(42), "title"),
        ("claim_starts_at", json!("2030-13-45"), "claim_starts_at"),
        ("redeem_until", json!("next friday"), "redeem_until"),
        ("station_ids", json!([42]), "station_ids[0]"),
        // A field no client may set.
        ("status", json!("published"), "status"),
        (
            "rules",
            json!([{"type": "membership_required"}, {"type": "region_in", "values": "3301"}]),
            "rules[1].values",
        ),
        (
            "rules",
            json!([{"type": "occupation_in", "values": []}]),
            "rules[0].values",
        ),
        (
            "rules",
            json!([{"type": "hardship_archived"}, {"type": "membership_required"}, {"type": "region_in", "values": ["33a"]}]),
            "rules[2].values[0]",
        ),
    ];
    let admin = &w.luqiao_admin.access;
    for (field, value, named) in cases {
        let resp = app
            .post_auth(
                "/api/v1/admin/campaigns",
                admin,
                &with(&base, field, value.clone()),
            )
            .await;
        assert_invalid(resp, named, &format!("{field} = {value}")).await;
    }
    let mut missing_title = base.clone();
    missing_title.as_object_mut().unwrap().remove("title");
    let resp = app
        .post_auth("/api/v1/admin/campaigns", admin, &missing_title)
        .await;
    assert_invalid(resp, "title", "no title").await;

    // Editing reads the same way.
    let id = app.luqiao_campaign(&w, 5).await;
    let path = format!("/api/v1/admin/campaigns/{id}");
    let resp = app.patch_auth(&path, admin, &json!({"total_stock": 7.5})).await;
    assert_invalid(resp, "total_stock", "PATCH with a fraction").await;
}

#[tokio::test]
async fn account_and_counter_bodies_name_their_fields_too() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (_, worker) = app.worker().await;
    let phone_as_number = json!({"phone": 13800000000u64, "password": PASSWORD, "name": "王小明"});
    let resp = app.post("/api/v1/auth/register", &phone_as_number).await;
    assert_invalid(resp, "phone", "register with a numeric phone").await;
    let resp = app
        .post("/api/v1/auth/login", &json!({"phone": random_phone()}))
        .await;
    assert_invalid(resp, "password", "login without a password").await;
    let resp = app
        .patch_auth("/api/v1/me", &worker.access, &json!({"occupation": "pilot"}))
        .await;
    assert_invalid(resp, "occupation", "an occupation not on the list").await;
    let resp = app
        .post_auth(
            "/api/v1/counter/redemptions",
            &w.luqiao_counter.access,
            &json!({"code": "0000-0000-0000-0000", "station_id": "here"}),
        )
        .await;
    assert_invalid(resp, "station_id", "a station that is not an id").await;

    // A body that is not JSON at all has no field, but still no parser position.
    let resp = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{\"phone\": ")
        .send()
        .await
        .unwrap();
    let problem = assert_problem(resp, 400, "INVALID_REQUEST").await;
    assert_readable(&problem, "a cut-off body");
}

#[tokio::test]
async fn unknown_query_parameters_are_refused_on_every_list() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let (_, worker) = app.worker().await;
    let (worker, admin) = (worker.access.as_str(), w.luqiao_admin.access.as_str());
    let vouchers = format!("/api/v1/admin/campaigns/{campaign}/vouchers");
    let redemptions = format!("/api/v1/admin/campaigns/{campaign}/redemptions");
    let lists = [
        ("/api/v1/campaigns", worker),
        ("/api/v1/stations", worker),
        ("/api/v1/unions", worker),
        ("/api/v1/me/vouchers", worker),
        ("/api/v1/me/membership-applications", worker),
        ("/api/v1/admin/campaigns", admin),
        ("/api/v1/admin/workers", admin),
        ("/api/v1/admin/membership-applications", admin),
        ("/api/v1/admin/membership-transfers", admin),
        (vouchers.as_str(), admin),
        (redemptions.as_str(), admin),
    ];
    for (path, token) in lists {
        // A misspelt filter must not silently list everything.
        let resp = app.get_auth(&format!("{path}?limit=5&foo=1"), token).await;
        assert_invalid(resp, "foo", path).await;
    }
    for (query, field) in [
        ("?limit=500", "limit"),
        ("?limit=ten", "limit"),
        ("?cursor=nonsense", "cursor"),
    ] {
        let resp = app.get_auth(&format!("/api/v1/campaigns{query}"), worker).await;
        assert_invalid(resp, field, query).await;
    }
    let resp = app.get_auth("/api/v1/stations?lat=north&lng=121.4", worker).await;
    assert_invalid(resp, "lat", "a latitude in words").await;
}

#[tokio::test]
async fn publishing_without_a_station_names_station_ids() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = &w.luqiao_admin.access;
    let draft = app.draft(admin, &w.luqiao, 5, json!([]), &[]).await;
    let path = format!(
        "/api/v1/admin/campaigns/{}/publish",
        draft["id"].as_str().unwrap()
    );
    let resp = app.post_auth(&path, admin, &json!({})).await;
    assert_invalid(resp, "station_ids", "publish with no station").await;
}

#[tokio::test]
async fn eligibility_says_a_campaign_is_paused_and_a_voucher_was_given_back() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = &w.luqiao_admin.access;
    let id = app.luqiao_campaign(&w, 5).await;
    let riders = app.riders(2).await;
    let voucher: Value = app.claim(&id, &riders[0].access).await.json().await.unwrap();
    let cancel = format!("/api/v1/me/vouchers/{}/cancel", voucher["id"].as_str().unwrap());
    assert_eq!(
        app.post_auth(&cancel, &riders[0].access, &json!({}))
            .await
            .status()
            .as_u16(),
        200
    );
    let pause = format!("/api/v1/admin/campaigns/{id}/pause");
    assert_eq!(
        app.post_auth(&pause, admin, &json!({})).await.status().as_u16(),
        200
    );

    let answer = eligibility(&app, &id, &riders[0].access).await;
    let paused = reason(&answer, "CAMPAIGN_NOT_OPEN");
    assert!(paused.contains("暂停"), "{paused}");
    let given_back = reason(&answer, "ALREADY_CLAIMED");
    assert!(given_back.contains("退还"), "{given_back}");

    // The refusal of a claim says paused too, not "not started yet".
    let refused = assert_problem(app.claim(&id, &riders[1].access).await, 409, "CAMPAIGN_NOT_OPEN").await;
    let title = refused["title"].as_str().unwrap();
    assert!(!title.contains("尚未开始"), "{refused}");
    let said = format!("{title} {}", refused["detail"].as_str().unwrap_or_default());
    assert!(said.contains("暂停"), "{refused}");
}

#[tokio::test]
async fn eligibility_says_what_the_worker_lacks_in_words() {
    let app = spawn_app().await;
    let w = app.world().await;
    let rules = json!([
        {"type": "membership_required"},
        {"type": "occupation_in", "values": ["courier"]},
        {"type": "region_in", "values": ["3301"]}
    ]);
    let id = app
        .campaign(&w.luqiao_admin.access, &w.luqiao, 5, rules, &[&w.luqiao_station])
        .await;
    // A newcomer who left the occupation empty and has applied to join, not yet approved.
    let phone = random_phone();
    let body = json!({"phone": phone, "password": PASSWORD, "name": "李新", "region_code": "331004"});
    assert_eq!(
        app.post("/api/v1/auth/register", &body).await.status().as_u16(),
        201
    );
    let newcomer = app.login_ok(&phone).await;
    app.created(
        "/api/v1/me/membership-applications",
        &newcomer.access,
        json!({"union_id": w.luqiao}),
    )
    .await;

    let answer = eligibility(&app, &id, &newcomer.access).await;
    let member = reason(&answer, "NOT_A_MEMBER");
    assert!(
        member.contains("审核中"),
        "a pending application is mentioned: {member}"
    );
    let occupation = reason(&answer, "OCCUPATION_NOT_COVERED");
    assert!(occupation.contains("尚未填写职业"), "{occupation}");
    let region = reason(&answer, "REGION_NOT_COVERED");
    assert!(region.contains("杭州市"), "a place name, not a code: {region}");
    assert!(!region.contains("（3301）"), "{region}");

    // A rider who never applied and has another occupation reads otherwise.
    let rider = app.riders(1).await.remove(0);
    let answer = eligibility(&app, &id, &rider.access).await;
    assert!(!reason(&answer, "NOT_A_MEMBER").contains("审核中"), "{answer}");
    let occupation = reason(&answer, "OCCUPATION_NOT_COVERED");
    assert!(
        !occupation.contains("尚未填写职业") && occupation.contains("快递员"),
        "{occupation}"
    );
}
