//! Vouchers that lapse give their unit back (issue 10; contract v1.1 "Campaigns: validity,
//! batches, reclaim"): each voucher has its own expiry, an expired voucher's unit returns to
//! the claimable stock exactly once whichever instance's job gets there first, and
//! `total_stock = remaining + unreleased + issued_unredeemed + redeemed` after every step.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use chrono::Duration;
use common::jobs::*;
use common::world::World;
use common::*;
use serde_json::{json, Value};

/// A published courier campaign of 路桥 whose vouchers last `days` days.
async fn lapsing(app: &TestApp, w: &World, stock: i64, days: i64) -> String {
    let body = campaign_body(w, stock, json!({"voucher_valid_days": days}));
    app.publish_body(&w.luqiao_admin.access, body).await
}

async fn claimed(app: &TestApp, campaign: &str, token: &str) -> Value {
    let resp = app.claim(campaign, token).await;
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "claim: {body}");
    body
}

/// Moves the voucher's expiry into the past, as the clock would.
fn expire(app: &TestApp, voucher: &Value) {
    app.sql(&format!(
        "UPDATE vouchers SET expires_at = '2020-01-01 00:00:00' WHERE id = '{}'",
        voucher["id"].as_str().unwrap()
    ));
}

async fn expired_notices(app: &TestApp, token: &str, voucher: &Value) -> usize {
    app.inbox(token)
        .await
        .iter()
        .filter(|n| n["kind"] == "voucher_expired" && n["voucher_id"] == voucher["id"])
        .count()
}

#[tokio::test]
async fn a_voucher_lasts_its_valid_days_unless_redeem_until_comes_first() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = &w.luqiao_admin.access;
    let rider = app.riders(1).await.remove(0);

    // Seven days to redeem, two per voucher: the voucher's own clock decides.
    let short = lapsing(&app, &w, 5, 2).await;
    let two_days = claimed(&app, &short, &rider.access).await;
    assert_eq!(
        utc(&two_days["expires_at"]) - utc(&two_days["issued_at"]),
        Duration::days(2),
        "{two_days}"
    );

    // Thirty per voucher, but the campaign stops redeeming in seven: its deadline decides.
    let long = lapsing(&app, &w, 5, 30).await;
    let shown = app
        .read_ok(&format!("/api/v1/campaigns/{long}"), &rider.access)
        .await;
    assert_eq!(shown["voucher_valid_days"], 30, "{shown}");
    let capped = claimed(&app, &long, &rider.access).await;
    assert_eq!(
        utc(&capped["expires_at"]),
        utc(&shown["redeem_until"]),
        "{capped}"
    );

    // The wallet and the single voucher say the same instant as the claim did.
    let wallet = app.wallet(&rider.access).await;
    for voucher in [&two_days, &capped] {
        let id = voucher["id"].as_str().unwrap();
        let listed = wallet["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["id"] == id)
            .unwrap_or_else(|| panic!("{id} not in {wallet}"));
        assert_eq!(listed["expires_at"], voucher["expires_at"]);
        let one = app
            .read_ok(&format!("/api/v1/me/vouchers/{id}"), &rider.access)
            .await;
        assert_eq!(one["expires_at"], voucher["expires_at"]);
    }

    let zero = campaign_body(&w, 5, json!({"voucher_valid_days": 0}));
    let refused = app.post_auth("/api/v1/admin/campaigns", admin, &zero).await;
    let problem = assert_problem(refused, 400, "INVALID_REQUEST").await;
    assert_eq!(problem["errors"][0]["field"], "voucher_valid_days", "{problem}");
}

#[tokio::test]
async fn an_expired_voucher_gives_its_unit_to_the_next_rider_once() {
    let app = spawn_app_with(fast_jobs).await;
    let w = app.world().await;
    let admin = w.luqiao_admin.access.as_str();
    let campaign = lapsing(&app, &w, 2, 1).await;
    let riders = app.riders(4).await;
    let watcher = riders[3].access.as_str();
    let stock = |step: &'static str| app.stock(&campaign, watcher, admin, step);

    let lapses = claimed(&app, &campaign, &riders[0].access).await;
    let used = claimed(&app, &campaign, &riders[1].access).await;
    assert_problem(app.claim(&campaign, &riders[2].access).await, 409, "SOLD_OUT").await;
    assert_eq!(stock("sold out").await["remaining"], 0);

    // A redeemed unit is spent for good; only the lapsed one may come back.
    let redeem = json!({"code": used["code"], "station_id": w.luqiao_station});
    app.created("/api/v1/counter/redemptions", &w.luqiao_counter.access, redeem)
        .await;
    stock("one redeemed").await;

    expire(&app, &lapses);
    // Before the job has run the voucher is already expired everywhere; the sum holds.
    stock("the clock passed expires_at").await;
    let (app_ref, campaign_ref) = (&app, campaign.as_str());
    let returned = eventually(5, "the lapsed unit returns to stock", move || async move {
        let stats = app_ref.stock(campaign_ref, watcher, admin, "returning").await;
        (stats["remaining"] == 1).then_some(stats)
    })
    .await;
    assert_eq!(
        (returned["expired"].as_i64(), returned["redeemed"].as_i64()),
        (Some(1), Some(1)),
        "{returned}"
    );
    let (holder, lapsed) = (riders[0].access.as_str(), &lapses);
    eventually(5, "the holder is told the voucher expired", move || async move {
        (expired_notices(app_ref, holder, lapsed).await > 0).then_some(())
    })
    .await;
    let wallet = app.wallet(holder).await;
    assert_eq!(wallet["items"][0]["status"], "expired", "{wallet}");

    // The rider turned away before now gets the unit; nobody after them does.
    claimed(&app, &campaign, &riders[2].access).await;
    assert_eq!(stock("the unit claimed again").await["remaining"], 0);
    settle().await;
    assert_eq!(stock("ticks later").await["remaining"], 0, "returned twice");
    assert_problem(app.claim(&campaign, watcher).await, 409, "SOLD_OUT").await;
    assert_eq!(expired_notices(&app, holder, &lapses).await, 1);
}

#[tokio::test]
async fn two_instances_and_a_restart_return_each_lapsed_unit_exactly_once() {
    let (mut config, dir) = fresh_config();
    fast_jobs(&mut config);
    let a = start(config.clone(), dir).await;
    let b = start(config.clone(), None).await;
    let w = a.world().await;
    let admin = w.luqiao_admin.access.as_str();
    let campaign = lapsing(&a, &w, 6, 1).await;
    let riders = a.riders(10).await;
    let watcher = riders[9].access.as_str();

    let mut vouchers = Vec::new();
    for (i, rider) in riders[..6].iter().enumerate() {
        let app = if i % 2 == 0 { &a } else { &b };
        vouchers.push(claimed(app, &campaign, &rider.access).await);
    }
    assert_problem(b.claim(&campaign, &riders[6].access).await, 409, "SOLD_OUT").await;
    a.stock(&campaign, watcher, admin, "six of six claimed").await;

    for voucher in &vouchers[..3] {
        expire(&a, voucher);
    }
    // An instance comes up while both others are returning stock, as after a restart.
    let c = start(config.clone(), None).await;
    let instances = [&a, &b, &c];
    let campaign_ref = campaign.as_str();
    eventually(10, "three lapsed units return", move || async move {
        let mut back = true;
        for (i, app) in instances.iter().enumerate() {
            let stats = app
                .stock(campaign_ref, watcher, admin, &format!("instance {i}"))
                .await;
            let remaining = stats["remaining"].as_i64().unwrap();
            assert!(remaining <= 3, "more came back than lapsed: {stats}");
            assert!(stats["expired"].as_i64().unwrap() <= 3, "{stats}");
            back &= remaining == 3;
        }
        back.then_some(())
    })
    .await;
    settle().await;
    for app in instances {
        let stats = app
            .stock(&campaign, watcher, admin, "after the jobs settled")
            .await;
        assert_eq!(
            (stats["remaining"].as_i64(), stats["expired"].as_i64()),
            (Some(3), Some(3)),
            "{stats}"
        );
    }

    // Exactly three more claims fit, through any instance.
    for (rider, app) in riders[6..9].iter().zip(instances) {
        claimed(app, &campaign, &rider.access).await;
    }
    assert_problem(c.claim(&campaign, watcher).await, 409, "SOLD_OUT").await;
    let stats = b.stock(&campaign, watcher, admin, "all claimed again").await;
    assert_eq!(stats["remaining"], 0);

    // Each holder heard once, not once per instance.
    for (voucher, rider) in vouchers[..3].iter().zip(&riders) {
        assert_eq!(expired_notices(&c, &rider.access, voucher).await, 1);
    }
    for rider in &riders[3..6] {
        let inbox = a.inbox(&rider.access).await;
        assert!(of_kind(&inbox, "voucher_expired").is_empty(), "{inbox:?}");
    }
}
