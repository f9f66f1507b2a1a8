//! The notification gateway (issue 10; contract v1.1 "Notifications (workers)"): with
//! NOTIFY_WEBHOOK_URL set, every notification is POSTed to a receiver this test runs, signed
//! as Standard Webhooks, retried under its first `webhook-id` while the receiver fails, and
//! never sent again once it was answered 2xx.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::jobs::*;
use common::receiver::*;
use common::*;
use serde_json::{json, Value};

/// Every delivery of each notification, in order, once each has been answered 2xx.
async fn delivered(receiver: &Receiver, notifications: &[Value]) -> HashMap<String, Vec<Delivery>> {
    eventually(20, "every notification reaches the gateway", move || async move {
        let mut by_notification: HashMap<String, Vec<Delivery>> = HashMap::new();
        for d in receiver.deliveries() {
            by_notification.entry(d.notification()).or_default().push(d);
        }
        let done = notifications.iter().all(|n| {
            by_notification
                .get(n["id"].as_str().unwrap())
                .is_some_and(|ds| ds.iter().any(|d| d.answered == 200))
        });
        done.then_some(by_notification)
    })
    .await
}

/// Each notification: one `webhook-id` on every attempt, and exactly one 2xx, the last.
fn assert_once_each(receiver: &Receiver, key: &[u8], notifications: &[Value]) {
    let all = receiver.deliveries();
    for d in &all {
        assert_signed(key, d);
    }
    let ids: HashSet<&str> = all.iter().map(Delivery::webhook_id).collect();
    assert_eq!(ids.len(), notifications.len(), "one webhook-id per notification");
    for n in notifications {
        let tries: Vec<&Delivery> = all
            .iter()
            .filter(|d| d.notification() == n["id"].as_str().unwrap())
            .collect();
        let id = tries[0].webhook_id();
        assert!(tries.iter().all(|d| d.webhook_id() == id), "{tries:?}");
        let successes = tries.iter().filter(|d| d.answered == 200).count();
        assert_eq!(successes, 1, "{n}: {tries:?}");
        assert_eq!(
            tries.last().unwrap().answered,
            200,
            "sent again after a 2xx: {tries:?}"
        );
    }
}

async fn revoked(app: &TestApp, w: &common::world::World, campaign: &str, rider: &Tokens) {
    let voucher: Value = app.claim(campaign, &rider.access).await.json().await.unwrap();
    let revoke = format!(
        "/api/v1/admin/vouchers/{}/revoke",
        voucher["id"].as_str().unwrap()
    );
    let resp = app
        .post_auth(&revoke, &w.luqiao_admin.access, &json!({"reason": "冒领"}))
        .await;
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test]
async fn every_notification_reaches_the_gateway_signed_and_once() {
    let receiver = Receiver::start();
    let (secret, key) = secret();
    let app = spawn_app_with(|c| {
        fast_jobs(c);
        c.jobs.notify_webhook_url = Some(receiver.url.clone());
        c.jobs.notify_webhook_secret = Some(secret);
    })
    .await;
    let w = app.world().await;
    let (phone, member, _) = app.member(&w.luqiao, &w.luqiao_admin).await;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let rider = app.riders(1).await.remove(0);
    revoked(&app, &w, &campaign, &rider).await;
    let mut notifications = app.inbox(&member.access).await;
    notifications.extend(app.inbox(&rider.access).await);
    assert_eq!(kinds(&notifications), ["membership_approved", "voucher_revoked"]);

    let by_notification = delivered(&receiver, &notifications).await;
    for n in &notifications {
        let payload = by_notification[n["id"].as_str().unwrap()][0].payload();
        assert_eq!(payload["type"], "notification.created", "{payload}");
        for field in ["id", "kind", "title", "body", "voucher_id", "campaign_id"] {
            assert_eq!(payload["data"][field], n[field], "{field}: {payload}");
        }
    }
    let approved = by_notification[notifications[0]["id"].as_str().unwrap()][0].payload();
    assert_eq!(
        approved["data"]["phone"],
        phone.as_str(),
        "the gateway texts this number"
    );
    settle().await;
    assert_once_each(&receiver, &key, &notifications);
}

#[tokio::test]
async fn a_gateway_that_fails_for_a_while_still_gets_each_notification_under_its_first_id() {
    let receiver = Receiver::start();
    receiver.fail_next(usize::MAX);
    let (secret, key) = secret();
    let app = spawn_app_with(|c| {
        fast_jobs(c);
        c.jobs.notify_webhook_url = Some(receiver.url.clone());
        c.jobs.notify_webhook_secret = Some(secret);
    })
    .await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let riders = app.riders(3).await;
    let mut notifications = Vec::new();
    for rider in &riders {
        revoked(&app, &w, &campaign, rider).await;
        notifications.extend(app.inbox(&rider.access).await);
    }
    assert_eq!(notifications.len(), 3);

    // Down long enough that every notification was refused three times.
    let receiver_ref = &receiver;
    eventually(20, "three refused attempts each", move || async move {
        let all = receiver_ref.deliveries();
        let counts = all.iter().fold(HashMap::new(), |mut m, d| {
            *m.entry(d.notification()).or_insert(0) += 1;
            m
        });
        (counts.len() == 3 && counts.values().all(|c| *c >= 3)).then_some(())
    })
    .await;
    receiver.fail_next(0);
    let by_notification = delivered(&receiver, &notifications).await;
    settle().await;
    assert_once_each(&receiver, &key, &notifications);

    // The delays grow: 200 ms, then three times that (a tick of slack either way).
    for tries in by_notification.values() {
        let first = tries[1].at - tries[0].at;
        let second = tries[2].at - tries[1].at;
        assert!(first >= Duration::from_millis(100), "retried at once: {first:?}");
        assert!(second >= Duration::from_millis(450), "{first:?} then {second:?}");
    }
}

#[tokio::test]
async fn two_instances_deliver_each_notification_once() {
    let receiver = Receiver::start();
    let (secret, key) = secret();
    let (mut config, dir) = fresh_config();
    fast_jobs(&mut config);
    config.jobs.notify_webhook_url = Some(receiver.url.clone());
    config.jobs.notify_webhook_secret = Some(secret);
    let a = start(config.clone(), dir).await;
    let b = start(config.clone(), None).await;
    // The first attempt is refused, so a retry is in the mix as well.
    receiver.fail_next(1);
    let w = a.world().await;
    let campaign = a.luqiao_campaign(&w, 10).await;
    let riders = a.riders(6).await;
    let mut notifications = Vec::new();
    for (i, rider) in riders.iter().enumerate() {
        let app = if i % 2 == 0 { &a } else { &b };
        revoked(app, &w, &campaign, rider).await;
        notifications.extend(b.inbox(&rider.access).await);
    }
    assert_eq!(notifications.len(), 6);
    delivered(&receiver, &notifications).await;
    settle().await;
    assert_once_each(&receiver, &key, &notifications);
}
