//! One `remaining` wherever it is shown (issue 9 fault 7), and lists that page by keyset,
//! so an entry added mid-walk neither repeats nor hides another (fault 8).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use std::future::Future;

use common::*;
use serde_json::{json, Value};

async fn read(app: &TestApp, path: &str, token: &str) -> Value {
    let resp = app.get_auth(path, token).await;
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

fn listed<'a>(list: &'a Value, id: &str) -> &'a Value {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["id"] == id)
        .unwrap_or_else(|| panic!("{id} is not listed: {list}"))
}

/// `remaining` as the campaign page, the campaign list, the admin's list and the stats
/// show it; fails unless all four agree.
async fn remaining_everywhere(app: &TestApp, campaign: &str, worker: &str, admin: &str, step: &str) -> i64 {
    let detail = read(app, &format!("/api/v1/campaigns/{campaign}"), worker).await;
    let list = read(app, "/api/v1/campaigns?limit=100", worker).await;
    let admin_list = read(app, "/api/v1/admin/campaigns?limit=100", admin).await;
    let stats = read(app, &format!("/api/v1/admin/campaigns/{campaign}/stats"), admin).await;
    let figures = [
        ("campaign page", detail["remaining"].as_i64()),
        ("campaign list", listed(&list, campaign)["remaining"].as_i64()),
        ("admin list", listed(&admin_list, campaign)["remaining"].as_i64()),
        ("stats", stats["remaining"].as_i64()),
    ];
    for (_, figure) in &figures {
        assert_eq!(*figure, figures[0].1, "{step}: {figures:?}");
    }
    figures[0]
        .1
        .unwrap_or_else(|| panic!("{step}: no remaining in {detail}"))
}

#[tokio::test]
async fn remaining_is_one_number_everywhere_whatever_happens_to_the_vouchers() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 10).await;
    let admin = w.luqiao_admin.access.as_str();
    let riders = app.riders(5).await;
    let mut vouchers = Vec::new();
    for rider in &riders {
        let resp = app.claim(&campaign, &rider.access).await;
        assert_eq!(resp.status().as_u16(), 201);
        vouchers.push(resp.json::<Value>().await.unwrap());
    }
    let check = |step: &'static str| remaining_everywhere(&app, &campaign, &riders[4].access, admin, step);
    assert_eq!(check("five of ten claimed").await, 5);

    let redeem = json!({"code": vouchers[0]["code"], "station_id": w.luqiao_station});
    let redemption = app
        .created("/api/v1/counter/redemptions", &w.luqiao_counter.access, redeem)
        .await;
    check("after a redemption").await;

    let cancel = format!(
        "/api/v1/me/vouchers/{}/cancel",
        vouchers[1]["id"].as_str().unwrap()
    );
    let resp = app.post_auth(&cancel, &riders[1].access, &json!({})).await;
    assert_eq!(resp.status().as_u16(), 200);
    check("after a voucher was given back").await;

    let revoke = format!(
        "/api/v1/admin/vouchers/{}/revoke",
        vouchers[2]["id"].as_str().unwrap()
    );
    let resp = app.post_auth(&revoke, admin, &json!({"reason": "冒领"})).await;
    assert_eq!(resp.status().as_u16(), 200);
    check("after a revocation").await;

    let reverse = format!(
        "/api/v1/admin/redemptions/{}/reverse",
        redemption["id"].as_str().unwrap()
    );
    let resp = app.post_auth(&reverse, admin, &json!({"reason": "误核销"})).await;
    assert_eq!(resp.status().as_u16(), 200);
    check("after a reversal").await;

    // The clock passes the redeem deadline (and the claim window before it): the issued
    // vouchers expire where they stand.
    app.sql(&format!(
        "UPDATE campaigns SET claim_starts_at = '2020-01-01 00:00:00', claim_ends_at = '2020-01-02 00:00:00', \
         redeem_until = '2020-01-03 00:00:00' WHERE id = '{campaign}'"
    ));
    app.sql(&format!(
        "UPDATE vouchers SET expires_at = '2020-01-03 00:00:00' WHERE campaign_id = '{campaign}'"
    ));
    check("after the redeem deadline").await;
}

/// One page of `path` (which sets its own `limit`): the ids on it and the next cursor.
async fn page(app: &TestApp, path: &str, token: &str, cursor: Option<&str>) -> (Vec<String>, Option<String>) {
    let mut request = app.client.get(app.url(path)).bearer_auth(token);
    if let Some(cursor) = cursor {
        request = request.query(&[("cursor", cursor)]);
    }
    let resp = request.send().await.unwrap();
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "GET {path} from {cursor:?}: {body}");
    let ids = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect();
    (ids, body["next_cursor"].as_str().map(str::to_owned))
}

/// Every id of every page of `path`, in order; `meanwhile` runs once the first page is read.
async fn walk(app: &TestApp, path: &str, token: &str, meanwhile: impl Future) -> Vec<String> {
    let (mut seen, mut cursor) = page(app, path, token, None).await;
    meanwhile.await;
    let mut pages = 1;
    while let Some(at) = cursor {
        pages += 1;
        assert!(pages <= 20, "{path} never ends: {seen:?}");
        let (ids, next) = page(app, path, token, Some(&at)).await;
        seen.extend(ids);
        cursor = next;
    }
    seen
}

fn assert_each_once(seen: &[String], expected: &[&str]) {
    let mut distinct = seen.to_vec();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), seen.len(), "an entry came twice: {seen:?}");
    for id in expected {
        assert!(seen.iter().any(|s| s == id), "{id} was skipped: {seen:?}");
    }
}

#[tokio::test]
async fn walking_stations_nearest_first_survives_a_station_opening_mid_walk() {
    let app = spawn_app().await;
    let w = app.world().await;
    let rider = app.riders(1).await.remove(0);
    // Standing 4 km north of 椒江驿站, one to a page. A station then opens right here:
    // nearest of all, so it sorts ahead of where the walk already is.
    let path = "/api/v1/stations?lat=28.70&lng=121.44&limit=1";
    let opening = app.station(
        &w.jiaojiang_admin.access,
        &w.jiaojiang,
        "椒江新驿站",
        28.70,
        121.44,
    );
    let seen = walk(&app, path, &rider.access, opening).await;
    assert_eq!(seen.first(), Some(&w.jiaojiang_station), "nearest first");
    let stations = [&w.jiaojiang_station, &w.luqiao_station, &w.luqiao_station_2].map(String::as_str);
    assert_each_once(&seen, &stations);
}

#[tokio::test]
async fn walking_workers_and_campaigns_survives_entries_added_mid_walk() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = &w.luqiao_admin.access;
    let mut members = Vec::new();
    for _ in 0..3 {
        members.push(app.member(&w.luqiao, &w.luqiao_admin).await.2);
    }
    let joining = app.member(&w.luqiao, &w.luqiao_admin);
    let seen = walk(&app, "/api/v1/admin/workers?limit=1", admin, joining).await;
    let members: Vec<&str> = members.iter().map(String::as_str).collect();
    assert_each_once(&seen, &members);

    let mut campaigns = Vec::new();
    for _ in 0..3 {
        campaigns.push(app.luqiao_campaign(&w, 5).await);
    }
    let rider = app.riders(1).await.remove(0);
    let launching = app.luqiao_campaign(&w, 5);
    let seen = walk(&app, "/api/v1/campaigns?limit=1", &rider.access, launching).await;
    let campaigns: Vec<&str> = campaigns.iter().map(String::as_str).collect();
    assert_each_once(&seen, &campaigns);
}
