//! The worker's inbox (issue 10; contract v1.1 "Notifications (workers)"): each decision
//! about a worker's membership or vouchers lands there in Chinese with its reason, expiry
//! reminders come once per stage, and only the owner reads or marks a notification.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use chrono::{Duration, Utc};
use common::jobs::*;
use common::*;
use serde_json::{json, Value};

async fn apply(app: &TestApp, worker: &Tokens, union: &str) -> String {
    let body = json!({"union_id": union});
    let created = app
        .created("/api/v1/me/membership-applications", &worker.access, body)
        .await;
    created["id"].as_str().unwrap().to_owned()
}

async fn ok(resp: reqwest::Response) -> Value {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

async fn mark_read(app: &TestApp, id: &str, token: &str) -> reqwest::Response {
    let path = format!("/api/v1/me/notifications/{id}/read");
    app.client
        .post(app.url(&path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// The voucher_expiring notifications about `voucher` in the holder's inbox.
async fn reminders(app: &TestApp, token: &str, voucher: &str) -> Vec<Value> {
    let inbox = app.inbox(token).await;
    of_kind(&inbox, "voucher_expiring")
        .into_iter()
        .filter(|n| n["voucher_id"] == voucher)
        .cloned()
        .collect()
}

#[tokio::test]
async fn membership_decisions_reach_the_inbox_newest_first_with_the_reason() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = &w.luqiao_admin.access;
    let (_, worker) = app.worker().await;
    let first = apply(&app, &worker, &w.luqiao).await;
    let reject = format!("/api/v1/admin/membership-applications/{first}/reject");
    ok(app
        .post_auth(&reject, admin, &json!({"reason": "请补充工作证明"}))
        .await)
    .await;
    let second = apply(&app, &worker, &w.luqiao).await;
    let approve = format!("/api/v1/admin/membership-applications/{second}/approve");
    ok(app.post_auth(&approve, admin, &json!({})).await).await;

    let inbox = app.inbox(&worker.access).await;
    assert_eq!(kinds(&inbox), ["membership_approved", "membership_rejected"]);
    assert!(
        inbox[1]["body"].as_str().unwrap().contains("请补充工作证明"),
        "the worker learns why: {}",
        inbox[1]
    );
    for n in &inbox {
        assert!(!n["title"].as_str().unwrap().is_empty(), "{n}");
        assert!(n["read_at"].is_null(), "{n}");
        utc(&n["created_at"]);
    }

    // Page by page, the same order.
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..4 {
        let mut request = app
            .client
            .get(app.url("/api/v1/me/notifications"))
            .bearer_auth(&worker.access)
            .query(&[("limit", "1")]);
        if let Some(at) = &cursor {
            request = request.query(&[("cursor", at)]);
        }
        let page = ok(request.send().await.unwrap()).await;
        walked.extend(page["items"].as_array().unwrap().iter().map(|n| n["id"].clone()));
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(walked, [inbox[0]["id"].clone(), inbox[1]["id"].clone()]);

    let (_, stranger) = app.worker().await;
    assert!(app.inbox(&stranger.access).await.is_empty());
}

#[tokio::test]
async fn revocations_and_reversals_are_told_to_the_holder_with_the_reason() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = &w.luqiao_admin.access;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let riders = app.riders(2).await;

    let revoked: Value = app
        .claim(&campaign, &riders[0].access)
        .await
        .json()
        .await
        .unwrap();
    let revoke = format!(
        "/api/v1/admin/vouchers/{}/revoke",
        revoked["id"].as_str().unwrap()
    );
    ok(app.post_auth(&revoke, admin, &json!({"reason": "冒领"})).await).await;

    let reversed: Value = app
        .claim(&campaign, &riders[1].access)
        .await
        .json()
        .await
        .unwrap();
    let redeem = json!({"code": reversed["code"], "station_id": w.luqiao_station});
    let redemption = app
        .created("/api/v1/counter/redemptions", &w.luqiao_counter.access, redeem)
        .await;
    let reverse = format!(
        "/api/v1/admin/redemptions/{}/reverse",
        redemption["id"].as_str().unwrap()
    );
    ok(app.post_auth(&reverse, admin, &json!({"reason": "误核销"})).await).await;

    for (rider, voucher, kind) in [
        (&riders[0], &revoked, "voucher_revoked"),
        (&riders[1], &reversed, "redemption_reversed"),
    ] {
        let inbox = app.inbox(&rider.access).await;
        assert_eq!(kinds(&inbox), [kind], "{inbox:?}");
        assert_eq!(inbox[0]["voucher_id"], voucher["id"]);
        assert_eq!(inbox[0]["campaign_id"], campaign.as_str());
    }
    let told = app.inbox(&riders[0].access).await;
    assert!(told[0]["body"].as_str().unwrap().contains("冒领"), "{}", told[0]);
}

#[tokio::test]
async fn only_the_owner_marks_a_notification_read() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let riders = app.riders(2).await;
    let (owner, other) = (&riders[0].access, &riders[1].access);
    let voucher: Value = app.claim(&campaign, owner).await.json().await.unwrap();
    let revoke = format!(
        "/api/v1/admin/vouchers/{}/revoke",
        voucher["id"].as_str().unwrap()
    );
    ok(app
        .post_auth(&revoke, &w.luqiao_admin.access, &json!({"reason": "冒领"}))
        .await)
    .await;
    let id = app.inbox(owner).await[0]["id"].as_str().unwrap().to_owned();

    assert_problem(mark_read(&app, &id, other).await, 404, "NOT_FOUND").await;
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_problem(mark_read(&app, &unknown, owner).await, 404, "NOT_FOUND").await;
    assert!(
        app.inbox(owner).await[0]["read_at"].is_null(),
        "another's try changed nothing"
    );

    assert_eq!(mark_read(&app, &id, owner).await.status().as_u16(), 204);
    utc(&app.inbox(owner).await[0]["read_at"]);

    // The inbox is a worker's; a counter has none.
    let counter = app
        .get_auth("/api/v1/me/notifications", &w.luqiao_counter.access)
        .await;
    assert_problem(counter, 403, "FORBIDDEN").await;
}

#[tokio::test]
async fn each_reminder_stage_arrives_once_before_expiry() {
    let app = spawn_app_with(|c| {
        fast_jobs(c);
        c.jobs.reminder_hours = vec![2, 1];
    })
    .await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let riders = app.riders(2).await;
    let (holder, unhurried) = (riders[0].access.as_str(), riders[1].access.as_str());
    let voucher: Value = app.claim(&campaign, holder).await.json().await.unwrap();
    assert_eq!(app.claim(&campaign, unhurried).await.status().as_u16(), 201);
    let id = voucher["id"].as_str().unwrap();
    let app_ref = &app;

    // 90 minutes left: inside the 2-hour stage, not yet the 1-hour one; then 30 minutes.
    for (minutes, stages) in [(90, 1), (30, 2)] {
        let expires = Utc::now() + Duration::minutes(minutes);
        app.sql(&format!(
            "UPDATE vouchers SET expires_at = '{}' WHERE id = '{id}'",
            sql_time(expires)
        ));
        let shown = app.read_ok(&format!("/api/v1/me/vouchers/{id}"), holder).await;
        let sent = eventually(5, "the reminder of this stage", move || async move {
            let sent = reminders(app_ref, holder, id).await;
            (sent.len() >= stages).then_some(sent)
        })
        .await;
        // Newest first: this stage's reminder gives the expiry as a person reads it.
        let body = sent[0]["body"].as_str().unwrap();
        assert!(body.contains(&civil(utc(&shown["expires_at"]))), "{body}");
        assert_eq!(sent[0]["campaign_id"], campaign.as_str());
        settle().await;
        assert_eq!(
            reminders(&app, holder, id).await.len(),
            stages,
            "{minutes} min left"
        );
    }
    let inbox = app.inbox(holder).await;
    assert!(of_kind(&inbox, "voucher_expired").is_empty(), "{inbox:?}");
    // A week to go is no reason to remind anyone.
    assert!(app.inbox(unhurried).await.is_empty());
}

/// A voucher claimed with less than the nearest stage left gets that one reminder, not one
/// for every stage already past.
#[tokio::test]
async fn a_voucher_inside_several_stages_is_reminded_once() {
    let app = spawn_app_with(|c| {
        fast_jobs(c);
        c.jobs.reminder_hours = vec![48, 2];
    })
    .await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let rider = app.riders(1).await.remove(0);
    let voucher: Value = app.claim(&campaign, &rider.access).await.json().await.unwrap();
    let id = voucher["id"].as_str().unwrap();
    let expires = Utc::now() + Duration::minutes(60);
    app.sql(&format!(
        "UPDATE vouchers SET expires_at = '{}' WHERE id = '{id}'",
        sql_time(expires)
    ));
    let app_ref = &app;
    let holder = rider.access.as_str();
    eventually(5, "the reminder", move || async move {
        (!reminders(app_ref, holder, id).await.is_empty()).then_some(())
    })
    .await;
    settle().await;
    assert_eq!(reminders(&app, holder, id).await.len(), 1);
}

#[tokio::test]
async fn admin_reminders_reach_each_unexpired_holder_once_a_day() {
    let app = spawn_app_with(fast_jobs).await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let riders = app.riders(4).await;
    let mut vouchers = Vec::new();
    for rider in &riders {
        let voucher: Value = app.claim(&campaign, &rider.access).await.json().await.unwrap();
        vouchers.push(voucher);
    }
    // Of four holders only the last two still hold an issued, unexpired voucher.
    let redeem = json!({"code": vouchers[0]["code"], "station_id": w.luqiao_station});
    app.created("/api/v1/counter/redemptions", &w.luqiao_counter.access, redeem)
        .await;
    app.sql(&format!(
        "UPDATE vouchers SET expires_at = '2020-01-01 00:00:00' WHERE id = '{}'",
        vouchers[1]["id"].as_str().unwrap()
    ));
    let ids: Vec<&str> = vouchers.iter().map(|v| v["id"].as_str().unwrap()).collect();

    let path = format!("/api/v1/admin/campaigns/{campaign}/reminders");
    let elsewhere = app.post_auth(&path, &w.jiaojiang_admin.access, &json!({})).await;
    assert_problem(elsewhere, 404, "NOT_FOUND").await;
    let (app_ref, path_ref, admin) = (&app, path.as_str(), w.luqiao_admin.access.as_str());
    let queued = move |n: i64| async move {
        let resp = app_ref.post_auth(path_ref, admin, &json!({})).await;
        assert_eq!(resp.status().as_u16(), 202);
        let answer: Value = resp.json().await.unwrap();
        assert_eq!(answer["queued"], n, "{answer}");
    };
    queued(2).await;
    for (rider, id) in riders[2..].iter().zip(&ids[2..]) {
        let (token, id) = (rider.access.as_str(), *id);
        eventually(5, "the reminder reaches the holder", move || async move {
            (reminders(app_ref, token, id).await.len() == 1).then_some(())
        })
        .await;
    }
    // Within 24 h a second press reminds nobody again.
    queued(0).await;
    settle().await;
    for (i, (rider, id)) in riders.iter().zip(&ids).enumerate() {
        let expected = usize::from(i >= 2);
        assert_eq!(
            reminders(&app, &rider.access, id).await.len(),
            expected,
            "rider {i}"
        );
    }

    // A day later the same voucher may be reminded again (column of migration 000007).
    let day_ago = sql_time(Utc::now() - Duration::hours(25));
    app.sql(&format!(
        "UPDATE vouchers SET admin_reminded_at = '{day_ago}' WHERE id = '{}'",
        ids[2]
    ));
    queued(1).await;
    let (token, id) = (riders[2].access.as_str(), ids[2]);
    eventually(5, "the next day's reminder", move || async move {
        (reminders(app_ref, token, id).await.len() == 2).then_some(())
    })
    .await;
}
