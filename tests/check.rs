//! `zhijian check` (issue 15): a live database after claims, an allocation and hand-overs
//! passes; each kind of damage done behind the service's back is found and named.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use common::binary::zhijian;
use common::*;
use serde_json::{json, Value};

/// Runs `zhijian check`: (passed, what it printed).
fn check(app: &TestApp) -> (bool, String) {
    let out = zhijian(&app.config).arg("check").output().unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), printed)
}

#[tokio::test]
async fn the_checker_passes_a_live_database_and_names_each_kind_of_damage() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let riders = app.riders(3).await;
    let mut vouchers = Vec::new();
    for r in &riders {
        let v: Value = app.claim(&campaign, &r.access).await.json().await.unwrap();
        vouchers.push(v["id"].as_str().unwrap().to_owned());
        let body = json!({"code": v["code"], "station_id": w.luqiao_station});
        if vouchers.len() < 3 {
            app.created("/api/v1/counter/redemptions", &w.luqiao_counter.access, body)
                .await;
        }
    }
    let (passed, printed) = check(&app);
    assert!(passed, "a consistent database passes: {printed}");
    assert!(printed.contains("consistent"), "{printed}");

    // A unit conjured into a shard.
    app.sql(&format!(
        "UPDATE campaign_stock_shards SET remaining = remaining + 1 \
         WHERE campaign_id = '{campaign}' AND shard = 0"
    ));
    let (passed, printed) = check(&app);
    assert!(!passed);
    assert!(printed.contains("stock-conservation"), "{printed}");
    assert!(printed.contains(&campaign), "names the campaign: {printed}");

    // A redemption reversed without its voucher going back.
    app.sql(&format!(
        "UPDATE redemptions SET reversed_at = issued_at FROM vouchers \
         WHERE vouchers.id = redemptions.voucher_id AND vouchers.id = '{}'",
        vouchers[0]
    ));
    let (_, printed) = check(&app);
    assert!(printed.contains("one-live-redemption"), "{printed}");
    assert!(printed.contains(&vouchers[0]), "{printed}");

    // A second voucher for one worker, written by hand (cancelled: it holds no unit).
    app.sql(&format!(
        "INSERT INTO vouchers (id, campaign_id, user_id, claim_no, code_hash, stock_shard, status, issued_at, expires_at) \
         SELECT '01900000-0000-7000-8000-000000000001', campaign_id, user_id, 2, 'forged', stock_shard, 'cancelled', issued_at, expires_at \
         FROM vouchers WHERE id = '{}'",
        vouchers[1]
    ));
    let (_, printed) = check(&app);
    assert!(printed.contains("per-worker-limit"), "{printed}");
    assert!(
        printed.contains("audited-issue"),
        "the forged voucher has no audit entry: {printed}"
    );

    // A hand-over whose audit entry was deleted.
    app.sql(&format!(
        "DELETE FROM audit_events WHERE subject_id = '{}' AND action = 'voucher.redeemed'",
        vouchers[1]
    ));
    let (passed, printed) = check(&app);
    assert!(!passed);
    assert!(printed.contains("audited-hand-over"), "{printed}");
    assert!(printed.contains("INCONSISTENT"), "{printed}");
}
