//! Delivery (送货上门, issue 14): a counter hands a delivery campaign's voucher over at the
//! worker's door exactly once, sees the worker's address only for its own campaigns, and
//! nobody else ever sees that address; a pickup campaign is never delivered.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use chrono::FixedOffset;
use common::jobs::{campaign_body, utc};
use common::readable::assert_invalid;
use common::world::World;
use common::*;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use futures_util::future::join_all;
use serde_json::{json, Value};

/// A door a courier can find, and text no other view of the service would hold.
const ADDRESS: &str = "路桥区路南街道银座街88号3幢1201室";

#[tokio::test]
async fn a_delivery_is_recorded_exactly_once_under_eight_concurrent_counters() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = delivery_campaign(&app, &w, 5).await;
    let (_, worker, _) = member_at(&app, &w, ADDRESS).await;
    let voucher = claimed(&app, &campaign, &worker).await;
    let voucher_id = voucher["id"].as_str().unwrap();

    let mut counters = Vec::new();
    for _ in 0..8 {
        counters.push(
            app.staff(&w.luqiao_admin.access, "counter", &w.luqiao, &[&w.luqiao_station])
                .await,
        );
    }
    let tries = counters
        .iter()
        .map(|c| deliver(&app, &c.access, voucher_id, &w.luqiao_station));
    let mut answers = Vec::new();
    for resp in join_all(tries).await {
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap();
        answers.push((status, body));
    }
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    let won: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(won.len(), 1, "exactly one hand-over: {statuses:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != 201) {
        match *status {
            409 => assert_eq!(body["code"], "ALREADY_REDEEMED", "{body}"),
            423 => assert_eq!(body["code"], "REDEMPTION_IN_PROGRESS", "{body}"),
            _ => panic!("a losing hand-over answered {status}: {body}"),
        }
    }
    let delivered = won[0];
    assert_eq!(delivered["method"], "delivery", "{delivered}");
    assert_eq!(delivered["voucher_id"], voucher_id, "{delivered}");
    assert_eq!(delivered["station_id"], w.luqiao_station.as_str(), "{delivered}");

    let id = voucher_id.to_owned();
    let rows = count(
        &app,
        &format!("SELECT COUNT(*) AS n FROM redemptions WHERE voucher_id = '{id}'"),
    );
    assert_eq!(rows, 1, "one redemption record for the voucher");
    let by_door = count(
        &app,
        &format!("SELECT COUNT(*) AS n FROM redemptions WHERE voucher_id = '{id}' AND method = 'delivery'"),
    );
    assert_eq!(by_door, 1, "the record says it was a delivery");

    let stats = app.stats(&campaign, &w.luqiao_admin.access).await;
    assert_eq!(stats["redeemed"], 1, "{stats}");
    assert_eq!(stats["delivered"], 1, "{stats}");
    let today = beijing_date(&delivered["redeemed_at"]);
    let days = stats["delivered_by_day"]
        .as_array()
        .unwrap_or_else(|| panic!("no delivered_by_day: {stats}"));
    let day = days
        .iter()
        .find(|d| d["date"] == today.as_str())
        .unwrap_or_else(|| panic!("no entry for {today}: {stats}"));
    assert_eq!(day["delivered"], 1, "{stats}");

    let again = deliver(&app, &w.luqiao_counter.access, voucher_id, &w.luqiao_station).await;
    assert_problem(again, 409, "ALREADY_REDEEMED").await;
}

#[tokio::test]
async fn the_delivery_list_shows_the_address_only_to_the_campaigns_counters() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = &w.luqiao_admin.access;
    let campaign = delivery_campaign(&app, &w, 5).await;
    let (phone, worker, worker_id) = member_at(&app, &w, ADDRESS).await;
    let voucher = claimed(&app, &campaign, &worker).await;
    let voucher_id = voucher["id"].as_str().unwrap();

    // The campaign's own counter: the full address, the holder masked.
    let list = deliveries_ok(&app, &w.luqiao_counter.access, &campaign).await;
    let item = listed(&list, voucher_id).unwrap_or_else(|| panic!("the voucher is to be delivered: {list}"));
    assert_eq!(item["campaign_id"], campaign.as_str(), "{item}");
    assert_eq!(item["campaign_title"], "暖心礼包", "{item}");
    assert_eq!(item["item_name"], "夏季清凉包", "{item}");
    assert_eq!(item["address"], ADDRESS, "{item}");
    assert_eq!(item["holder_name_masked"], "王**", "{item}");
    assert_eq!(item["holder_phone_masked"], masked(&phone), "{item}");
    let expiry = utc(&item["expires_at"]) - utc(&voucher["expires_at"]);
    assert!(expiry.num_seconds().abs() <= 1, "the voucher's expiry: {item}");
    let text = list.to_string();
    assert!(!text.contains(&phone), "no full phone in the list: {list}");
    assert!(!text.contains("王小明"), "no full name in the list: {list}");

    // Another district's counter serves none of the campaign's stations.
    let elsewhere = deliveries(&app, &w.jiaojiang_counter.access, &campaign).await;
    assert_problem(elsewhere, 403, "STATION_NOT_ALLOWED").await;

    // The union office finds the member, opens the profile, lists and exports the
    // campaign's vouchers: never the address.
    let found = app
        .read_ok(&format!("/api/v1/admin/workers?phone={phone}"), admin)
        .await;
    let items = found["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{found}");
    assert!(items[0].get("address").is_none(), "{found}");
    assert_no_address(&found.to_string(), "the worker search");

    let profile = app
        .read_ok(&format!("/api/v1/admin/workers/{worker_id}"), admin)
        .await;
    assert_eq!(profile["id"], worker_id.as_str(), "{profile}");
    assert!(profile.get("address").is_none(), "{profile}");
    assert_no_address(&profile.to_string(), "the worker's profile");

    let held = app
        .read_ok(&format!("/api/v1/admin/campaigns/{campaign}/vouchers"), admin)
        .await;
    assert!(
        held["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["voucher_id"] == voucher_id),
        "the voucher is listed: {held}"
    );
    assert_no_address(&held.to_string(), "the campaign's vouchers");

    let csv = export(
        &app,
        &format!("/api/v1/admin/campaigns/{campaign}/vouchers.csv"),
        admin,
    )
    .await;
    assert!(csv.contains(voucher_id), "the voucher is exported: {csv}");
    assert_no_address(&csv, "vouchers.csv");
    let members = export(
        &app,
        &format!("/api/v1/admin/unions/{}/members.csv", w.luqiao),
        admin,
    )
    .await;
    assert_no_address(&members, "members.csv");

    // The worker sees their own address.
    assert_eq!(app.me(&worker.access).await["address"], ADDRESS);

    // Handed over: no longer to deliver.
    let handed = deliver(&app, &w.luqiao_counter.access, voucher_id, &w.luqiao_station).await;
    assert_eq!(handed.status().as_u16(), 201, "{}", handed.text().await.unwrap());
    let list = deliveries_ok(&app, &w.luqiao_counter.access, &campaign).await;
    assert!(
        listed(&list, voucher_id).is_none(),
        "delivered, still listed: {list}"
    );
}

#[tokio::test]
async fn pickup_campaigns_are_not_delivered() {
    let app = spawn_app().await;
    let w = app.world().await;
    let counter = &w.luqiao_counter.access;

    // A pickup campaign (the default) at the counter's own station.
    let pickup = app.luqiao_campaign(&w, 5).await;
    let rider = app.riders(1).await.remove(0);
    let collected = claimed(&app, &pickup, &rider).await;
    let refused = deliver(
        &app,
        counter,
        collected["id"].as_str().unwrap(),
        &w.luqiao_station,
    )
    .await;
    assert_problem(refused, 409, "DELIVERY_NOT_OFFERED").await;
    assert_problem(
        deliveries(&app, counter, &pickup).await,
        409,
        "DELIVERY_NOT_OFFERED",
    )
    .await;

    let unknown = uuid::Uuid::new_v4().to_string();
    let missing = deliver(&app, counter, &unknown, &w.luqiao_station).await;
    assert_problem(missing, 404, "VOUCHER_NOT_FOUND").await;

    // A delivery voucher, at a station the counter is not bound to.
    let campaign = delivery_campaign(&app, &w, 5).await;
    let (_, worker, _) = member_at(&app, &w, ADDRESS).await;
    let voucher = claimed(&app, &campaign, &worker).await;
    let voucher_id = voucher["id"].as_str().unwrap();
    for (token, station) in [
        (counter, &w.luqiao_station_2),
        (counter, &w.jiaojiang_station),
        (&w.jiaojiang_counter.access, &w.luqiao_station),
    ] {
        let resp = deliver(&app, token, voucher_id, station).await;
        assert_problem(resp, 403, "STATION_NOT_ALLOWED").await;
    }
    // None of the refusals used the voucher up.
    let handed = deliver(&app, counter, voucher_id, &w.luqiao_station).await;
    assert_eq!(handed.status().as_u16(), 201, "{}", handed.text().await.unwrap());
}

#[tokio::test]
async fn an_address_is_bounded_text() {
    let app = spawn_app().await;
    let (_, worker) = app.worker().await;

    let too_long = "路".repeat(201);
    let resp = app
        .patch_auth("/api/v1/me", &worker.access, &json!({"address": too_long}))
        .await;
    assert_invalid(resp, "address", "a 201-character address").await;
    assert!(app.me(&worker.access).await["address"].is_null());

    let longest = "路".repeat(200);
    set_address(&app, &worker, json!(longest)).await;
    assert_eq!(app.me(&worker.access).await["address"], longest.as_str());

    set_address(&app, &worker, Value::Null).await;
    assert!(app.me(&worker.access).await["address"].is_null());
}

// ---- helpers ----

/// A published delivery campaign of 路桥 (courier rules), served from its first station.
async fn delivery_campaign(app: &TestApp, w: &World, stock: i64) -> String {
    let body = campaign_body(w, stock, json!({"fulfilment": "delivery"}));
    app.publish_body(&w.luqiao_admin.access, body).await
}

/// A registered food-delivery rider of 331004, member of 路桥, with `address` on file:
/// (phone, tokens, user id).
async fn member_at(app: &TestApp, w: &World, address: &str) -> (String, Tokens, String) {
    let (phone, tokens, id) = app.member(&w.luqiao, &w.luqiao_admin).await;
    set_address(app, &tokens, json!(address)).await;
    (phone, tokens, id)
}

async fn set_address(app: &TestApp, worker: &Tokens, address: Value) {
    let resp = app
        .patch_auth("/api/v1/me", &worker.access, &json!({"address": address}))
        .await;
    let status = resp.status().as_u16();
    assert_eq!(status, 200, "PATCH /me address: {}", resp.text().await.unwrap());
}

/// Claims a voucher of `campaign` (201) and returns the answer.
async fn claimed(app: &TestApp, campaign: &str, worker: &Tokens) -> Value {
    let resp = app.claim(campaign, &worker.access).await;
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "claim: {body}");
    body
}

async fn deliver(app: &TestApp, token: &str, voucher: &str, station: &str) -> reqwest::Response {
    let body = json!({"voucher_id": voucher, "station_id": station});
    app.post_auth("/api/v1/counter/deliveries", token, &body).await
}

async fn deliveries(app: &TestApp, token: &str, campaign: &str) -> reqwest::Response {
    let path = format!("/api/v1/counter/deliveries?campaign_id={campaign}&limit=100");
    app.get_auth(&path, token).await
}

async fn deliveries_ok(app: &TestApp, token: &str, campaign: &str) -> Value {
    let resp = deliveries(app, token, campaign).await;
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "deliveries: {body}");
    assert!(
        body["items"].is_array() && body.get("next_cursor").is_some(),
        "{body}"
    );
    body
}

fn listed<'a>(list: &'a Value, voucher: &str) -> Option<&'a Value> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["voucher_id"] == voucher)
}

/// A CSV export's text (asserted 200).
async fn export(app: &TestApp, path: &str, token: &str) -> String {
    let resp = app.get_auth(path, token).await;
    let status = resp.status().as_u16();
    let text = String::from_utf8_lossy(&resp.bytes().await.unwrap()).into_owned();
    assert_eq!(status, 200, "GET {path}: {text}");
    text
}

fn assert_no_address(text: &str, view: &str) {
    assert!(!text.contains(ADDRESS), "{view} shows the address: {text}");
}

fn masked(phone: &str) -> String {
    format!("{}****{}", &phone[..3], &phone[7..])
}

/// The Beijing calendar date of an RFC 3339 time of an answer.
fn beijing_date(v: &Value) -> String {
    let beijing = FixedOffset::east_opt(8 * 3600).unwrap();
    utc(v).with_timezone(&beijing).format("%Y-%m-%d").to_string()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The `n` of a `SELECT COUNT(*) AS n …` on the test database.
fn count(app: &TestApp, statement: &str) -> i64 {
    let pool = zhijian::db::connect(&app.config.database_url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let rows: Vec<Count> = diesel::sql_query(statement).load(&mut *conn).unwrap();
    rows[0].n
}
