//! Stock in batches (issue 10; contract v1.1 "Campaigns: validity, batches, reclaim"), and
//! what a campaign may still change once published: more stations, rules until its first
//! voucher; only drafts may be deleted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use common::campaigns::courier_rules;
use common::jobs::*;
use common::*;
use serde_json::{json, Value};

/// Two batches of two: one out an hour ago, one at `second`.
fn two_batches(second: DateTime<Utc>) -> Value {
    let first = whole(Utc::now() - Duration::hours(1));
    json!({"stock_releases": [
        {"at": first.to_rfc3339_opts(SecondsFormat::Secs, true), "quantity": 2},
        {"at": second.to_rfc3339_opts(SecondsFormat::Secs, true), "quantity": 2},
    ]})
}

fn figures(stats: &Value) -> (Option<i64>, Option<i64>) {
    (stats["remaining"].as_i64(), stats["unreleased"].as_i64())
}

async fn delete(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.client
        .delete(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn before_a_later_batch_sold_out_says_when_more_comes() {
    let app = spawn_app_with(fast_jobs).await;
    let w = app.world().await;
    let admin = w.luqiao_admin.access.as_str();
    let later = whole(Utc::now() + Duration::hours(1));
    let body = campaign_body(&w, 4, two_batches(later));
    let id = app.publish_body(admin, body).await;
    let riders = app.riders(3).await;
    let watcher = riders[2].access.as_str();
    let (app_ref, id_ref) = (&app, id.as_str());

    // The first batch is due already: out by the next tick at the latest.
    let stats = eventually(5, "the first batch is out", move || async move {
        let stats = app_ref.stock(id_ref, watcher, admin, "published").await;
        (figures(&stats) == (Some(2), Some(2))).then_some(stats)
    })
    .await;
    assert_eq!(utc(&stats["next_release_at"]), later, "{stats}");
    let detail = app.read_ok(&format!("/api/v1/campaigns/{id}"), watcher).await;
    assert_eq!(detail["unreleased"], 2, "{detail}");
    assert_eq!(utc(&detail["next_release_at"]), later);
    let batches = detail["stock_releases"].as_array().unwrap();
    assert_eq!(
        batches.iter().map(|b| b["released"].clone()).collect::<Vec<_>>(),
        [json!(true), json!(false)],
        "{detail}"
    );

    for rider in &riders[..2] {
        assert_eq!(app.claim(&id, &rider.access).await.status().as_u16(), 201);
    }
    let problem = assert_problem(app.claim(&id, watcher).await, 409, "SOLD_OUT").await;
    assert_eq!(utc(&problem["next_release_at"]), later, "{problem}");
    let answer = app
        .read_ok(&format!("/api/v1/campaigns/{id}/eligibility"), watcher)
        .await;
    let sold_out = answer["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "SOLD_OUT")
        .unwrap_or_else(|| panic!("{answer}"));
    // A worker reads when the next batch comes in Beijing time.
    assert!(
        sold_out["message"].as_str().unwrap().contains(&civil(later)),
        "{sold_out}"
    );
    let stats = app.stock(&id, watcher, admin, "first batch gone").await;
    assert_eq!(figures(&stats), (Some(0), Some(2)));
}

#[tokio::test]
async fn once_the_next_batch_is_due_a_claim_gets_it_without_waiting_for_the_job() {
    // The job would not run again for an hour: the claim itself must release the batch.
    let app = spawn_app_with(|c| c.jobs.tick = std::time::Duration::from_secs(3600)).await;
    let w = app.world().await;
    let admin = w.luqiao_admin.access.as_str();
    let riders = app.riders(5).await;
    let watcher = riders[4].access.as_str();
    let later = whole(Utc::now() + Duration::seconds(5));
    let id = app
        .publish_body(admin, campaign_body(&w, 4, two_batches(later)))
        .await;
    for rider in &riders[..2] {
        assert_eq!(app.claim(&id, &rider.access).await.status().as_u16(), 201);
    }
    assert!(Utc::now() < later, "setup took longer than the batch is ahead");
    assert_problem(app.claim(&id, &riders[2].access).await, 409, "SOLD_OUT").await;
    app.stock(&id, watcher, admin, "before the second batch").await;

    let wait = later - Utc::now() + Duration::milliseconds(50);
    tokio::time::sleep(wait.to_std().unwrap_or_default()).await;
    for rider in &riders[2..4] {
        let resp = app.claim(&id, &rider.access).await;
        assert_eq!(resp.status().as_u16(), 201, "{}", resp.text().await.unwrap());
    }
    let last = assert_problem(app.claim(&id, watcher).await, 409, "SOLD_OUT").await;
    assert!(
        last["next_release_at"].is_null(),
        "nothing more is coming: {last}"
    );
    let stats = app.stock(&id, watcher, admin, "both batches claimed").await;
    assert_eq!(figures(&stats), (Some(0), Some(0)));
    assert!(stats["next_release_at"].is_null(), "{stats}");
}

#[tokio::test]
async fn a_due_batch_comes_out_on_its_own_without_any_claim() {
    let app = spawn_app_with(fast_jobs).await;
    let w = app.world().await;
    let admin = w.luqiao_admin.access.as_str();
    let watcher = app.riders(1).await.remove(0).access;
    let later = whole(Utc::now() + Duration::seconds(3));
    let id = app
        .publish_body(admin, campaign_body(&w, 4, two_batches(later)))
        .await;
    // The first batch may still wait for a tick; the second is not out yet either way.
    let before = app.stock(&id, &watcher, admin, "published").await;
    assert!(Utc::now() < later, "setup took longer than the batch is ahead");
    assert!(before["unreleased"].as_i64().unwrap() >= 2, "{before}");

    let (app_ref, id_ref, watcher_ref) = (&app, id.as_str(), watcher.as_str());
    let after = eventually(8, "the second batch is out", move || async move {
        let stats = app_ref.stock(id_ref, watcher_ref, admin, "releasing").await;
        (figures(&stats) == (Some(4), Some(0))).then_some(stats)
    })
    .await;
    assert!(after["next_release_at"].is_null(), "{after}");
}

#[tokio::test]
async fn without_batches_everything_comes_out_when_claims_open() {
    let app = spawn_app().await;
    let w = app.world().await;
    let opens = whole(Utc::now() + Duration::hours(2));
    let body = campaign_body(&w, 7, json!({"claim_starts_at": opens}));
    let id = app.publish_body(&w.luqiao_admin.access, body).await;
    let stats = app.stats(&id, &w.luqiao_admin.access).await;
    assert_eq!(figures(&stats), (Some(0), Some(7)), "{stats}");
    assert_eq!(utc(&stats["next_release_at"]), opens);
}

#[tokio::test]
async fn stock_releases_must_add_up_to_the_total_with_no_empty_batch() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = w.luqiao_admin.access.as_str();
    let (t1, t2) = (Utc::now() - Duration::hours(1), Utc::now() + Duration::hours(1));
    let bad =
        |a: i64, b: i64| json!({"stock_releases": [{"at": t1, "quantity": a}, {"at": t2, "quantity": b}]});
    let named = |problem: &Value| {
        let field = problem["errors"][0]["field"].as_str().unwrap_or_default();
        assert!(field.starts_with("stock_releases"), "{problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains("stock_releases"),
            "{problem}"
        );
    };
    for (a, b) in [(2, 1), (3, 2), (0, 4), (-1, 5)] {
        let resp = app
            .post_auth("/api/v1/admin/campaigns", admin, &campaign_body(&w, 4, bad(a, b)))
            .await;
        named(&assert_problem(resp, 400, "INVALID_REQUEST").await);
    }

    let draft = app
        .created("/api/v1/admin/campaigns", admin, campaign_body(&w, 4, bad(1, 3)))
        .await;
    assert_eq!(draft["stock_releases"].as_array().unwrap().len(), 2, "{draft}");
    let path = format!("/api/v1/admin/campaigns/{}", draft["id"].as_str().unwrap());
    let resp = app.patch_auth(&path, admin, &bad(1, 1)).await;
    named(&assert_problem(resp, 400, "INVALID_REQUEST").await);
    assert_eq!(
        app.patch_auth(&path, admin, &bad(2, 2)).await.status().as_u16(),
        200
    );
}

#[tokio::test]
async fn a_published_campaign_may_gain_stations_but_not_lose_them() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = w.luqiao_admin.access.as_str();
    let id = app.luqiao_campaign(&w, 5).await;
    let rider = app.riders(1).await.remove(0);
    let voucher: Value = app.claim(&id, &rider.access).await.json().await.unwrap();
    let jinqing = app
        .staff(admin, "counter", &w.luqiao, &[&w.luqiao_station_2])
        .await;
    let lookup = json!({"code": voucher["code"]});
    let (app_ref, counter, lookup_ref) = (&app, jinqing.access.as_str(), &lookup);
    let here = move || async move {
        let found: Value = app_ref
            .post_auth("/api/v1/counter/lookups", counter, lookup_ref)
            .await
            .json()
            .await
            .unwrap();
        found["redeemable_here"].clone()
    };
    assert_eq!(here().await, false);

    let path = format!("/api/v1/admin/campaigns/{id}");
    let both = json!({"station_ids": [w.luqiao_station, w.luqiao_station_2]});
    let resp = app.patch_auth(&path, admin, &both).await;
    assert_eq!(resp.status().as_u16(), 200, "{}", resp.text().await.unwrap());
    // A voucher already in a wallet is good at the new station too.
    assert_eq!(here().await, true);
    let redeem = json!({"code": voucher["code"], "station_id": w.luqiao_station_2});
    app.created("/api/v1/counter/redemptions", &jinqing.access, redeem)
        .await;

    let fewer = json!({"station_ids": [w.luqiao_station_2]});
    let resp = app.patch_auth(&path, admin, &fewer).await;
    assert_problem(resp, 409, "CAMPAIGN_STATE_CONFLICT").await;
}

#[tokio::test]
async fn rules_can_be_fixed_until_the_first_voucher_is_issued() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = w.luqiao_admin.access.as_str();
    // Couriers only, by mistake: the food-delivery riders it was meant for are refused.
    let mistaken = json!([{"type": "occupation_in", "values": ["courier"]}]);
    let id = app
        .campaign(admin, &w.luqiao, 5, mistaken.clone(), &[&w.luqiao_station])
        .await;
    let riders = app.riders(2).await;
    assert_problem(app.claim(&id, &riders[0].access).await, 403, "NOT_ELIGIBLE").await;

    let path = format!("/api/v1/admin/campaigns/{id}");
    let fixed = app
        .patch_auth(&path, admin, &json!({"rules": courier_rules()}))
        .await;
    assert_eq!(fixed.status().as_u16(), 200, "{}", fixed.text().await.unwrap());
    assert_eq!(app.claim(&id, &riders[0].access).await.status().as_u16(), 201);

    // A voucher is out: the rules it was issued under stay.
    let late = app.patch_auth(&path, admin, &json!({"rules": mistaken})).await;
    assert_problem(late, 409, "CAMPAIGN_STATE_CONFLICT").await;
    assert_eq!(app.claim(&id, &riders[1].access).await.status().as_u16(), 201);
}

#[tokio::test]
async fn only_a_draft_can_be_deleted() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = w.luqiao_admin.access.as_str();
    let draft = app
        .draft(admin, &w.luqiao, 5, courier_rules(), &[&w.luqiao_station])
        .await;
    let path = format!("/api/v1/admin/campaigns/{}", draft["id"].as_str().unwrap());
    let elsewhere = delete(&app, &path, &w.jiaojiang_admin.access).await;
    assert_problem(elsewhere, 404, "NOT_FOUND").await;
    assert_eq!(delete(&app, &path, admin).await.status().as_u16(), 204);
    assert_problem(delete(&app, &path, admin).await, 404, "NOT_FOUND").await;
    let listed = app.read_ok("/api/v1/admin/campaigns?limit=100", admin).await;
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["id"] != draft["id"]),
        "{listed}"
    );

    let published = app.luqiao_campaign(&w, 5).await;
    let path = format!("/api/v1/admin/campaigns/{published}");
    assert_problem(delete(&app, &path, admin).await, 409, "CAMPAIGN_STATE_CONFLICT").await;
    let close = format!("{path}/close");
    assert_eq!(
        app.post_auth(&close, admin, &json!({})).await.status().as_u16(),
        200
    );
    assert_problem(delete(&app, &path, admin).await, 409, "CAMPAIGN_STATE_CONFLICT").await;
}
