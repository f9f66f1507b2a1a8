//! Background jobs seen from outside (issue 10): fast ticks, polling with a deadline, the
//! worker's inbox, and the stock identity every view of a campaign must keep.
#![allow(dead_code)]

use std::future::Future;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::{json, Value};
use zhijian::config::Config;

use super::campaigns::courier_rules;
use super::world::World;
use super::TestApp;

/// The job tick tests run with: several ticks fit in a second.
pub const TICK: Duration = Duration::from_millis(200);

/// Jobs run every tick and a failed delivery is retried after one tick (then ×3 …).
pub fn fast_jobs(c: &mut Config) {
    c.jobs.tick = TICK;
    c.jobs.retry_base = TICK;
}

/// Polls `probe` until it yields something; fails after `secs` seconds saying `what`.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(Instant::now() < deadline, "not within {secs} s: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Six ticks: long enough for a job that would do something twice to have done it.
pub async fn settle() {
    tokio::time::sleep(TICK * 6).await;
}

/// An RFC 3339 timestamp of an answer.
/// `t` to the whole second, as a union office's form sends it.
pub fn whole(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).expect("a time the form can send")
}

pub fn utc(v: &Value) -> DateTime<Utc> {
    let text = v.as_str().unwrap_or_else(|| panic!("not a timestamp: {v}"));
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .with_timezone(&Utc)
}

/// How a sentence for a person writes `t`: Beijing wall-clock time to the minute.
pub fn civil(t: DateTime<Utc>) -> String {
    let beijing = FixedOffset::east_opt(8 * 3600).unwrap();
    t.with_timezone(&beijing).format("%Y-%m-%d %H:%M").to_string()
}

/// `t` as an SQL timestamp literal (UTC), for moving a clock.
pub fn sql_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A courier campaign of 路桥 open now, redeemable at its first station for seven days,
/// with `extra` fields laid over it.
pub fn campaign_body(w: &World, stock: i64, extra: Value) -> Value {
    let now = Utc::now();
    let mut body = json!({
        "union_id": w.luqiao,
        "title": "暖心礼包",
        "item_name": "夏季清凉包",
        "total_stock": stock,
        "claim_starts_at": now - chrono::Duration::hours(1),
        "claim_ends_at": now + chrono::Duration::days(1),
        "redeem_until": now + chrono::Duration::days(7),
        "station_ids": [w.luqiao_station],
        "rules": courier_rules(),
    });
    let fields = body.as_object_mut().unwrap();
    for (k, v) in extra.as_object().unwrap() {
        fields.insert(k.clone(), v.clone());
    }
    body
}

pub fn kinds(items: &[Value]) -> Vec<&str> {
    items.iter().map(|n| n["kind"].as_str().unwrap()).collect()
}

pub fn of_kind<'a>(items: &'a [Value], kind: &str) -> Vec<&'a Value> {
    items.iter().filter(|n| n["kind"] == kind).collect()
}

fn listed<'a>(list: &'a Value, id: &str) -> &'a Value {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["id"] == id)
        .unwrap_or_else(|| panic!("{id} is not listed: {list}"))
}

impl TestApp {
    /// GET that must answer 200.
    pub async fn read_ok(&self, path: &str, token: &str) -> Value {
        let resp = self.get_auth(path, token).await;
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// Creates and publishes a campaign from a full body; returns its id.
    pub async fn publish_body(&self, admin: &str, body: Value) -> String {
        let id = self.created("/api/v1/admin/campaigns", admin, body).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let resp = self
            .post_auth(
                &format!("/api/v1/admin/campaigns/{id}/publish"),
                admin,
                &json!({}),
            )
            .await;
        assert_eq!(resp.status().as_u16(), 200, "{}", resp.text().await.unwrap());
        id
    }

    /// The worker's notifications, newest first (all of them in tests: at most 100).
    pub async fn inbox(&self, token: &str) -> Vec<Value> {
        let page = self.read_ok("/api/v1/me/notifications?limit=100", token).await;
        page["items"].as_array().unwrap().clone()
    }

    /// The campaign's stats, after checking `total_stock = remaining + unreleased +
    /// issued_unredeemed + redeemed` and that the campaign page, the campaign list and the
    /// admin list show the same `remaining`. A job may move stock between the reads, so the
    /// views are compared only when the stats read before and after them agree.
    pub async fn stock(&self, campaign: &str, worker: &str, admin: &str, step: &str) -> Value {
        let stats_path = format!("/api/v1/admin/campaigns/{campaign}/stats");
        let figure = |v: &Value, field: &str| {
            v[field]
                .as_i64()
                .unwrap_or_else(|| panic!("{step}: no {field} in {v}"))
        };
        let identity = |stats: &Value| {
            let sum = figure(stats, "remaining")
                + figure(stats, "unreleased")
                + figure(stats, "issued_unredeemed")
                + figure(stats, "redeemed");
            assert_eq!(figure(stats, "total_stock"), sum, "{step}: {stats}");
        };
        for _ in 0..5 {
            let before = self.read_ok(&stats_path, admin).await;
            identity(&before);
            let detail = self
                .read_ok(&format!("/api/v1/campaigns/{campaign}"), worker)
                .await;
            let list = self.read_ok("/api/v1/campaigns?limit=100", worker).await;
            let admin_list = self.read_ok("/api/v1/admin/campaigns?limit=100", admin).await;
            let after = self.read_ok(&stats_path, admin).await;
            identity(&after);
            if figure(&after, "remaining") != figure(&before, "remaining") {
                continue;
            }
            let views = [
                ("campaign page", figure(&detail, "remaining")),
                ("campaign list", figure(listed(&list, campaign), "remaining")),
                ("admin list", figure(listed(&admin_list, campaign), "remaining")),
            ];
            for (view, remaining) in views {
                assert_eq!(
                    remaining,
                    figure(&before, "remaining"),
                    "{step}: {view}: {before}"
                );
            }
            return before;
        }
        panic!("{step}: remaining kept changing between reads");
    }
}
