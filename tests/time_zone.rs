//! `TIME_ZONE` names the civil zone. It is process-wide (serde reads request bodies
//! without context), so this test has a test binary of its own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn another_time_zone_reads_the_same_input_in_its_own_civil_time() {
    let app = spawn_app_with(|c| c.time_zone = "Asia/Tokyo".parse().unwrap()).await;
    let w = app.world().await;
    let body = json!({
        "union_id": w.luqiao, "title": "暖心礼包", "item_name": "冬季暖心包", "total_stock": 5,
        "claim_starts_at": "2030-12-01T09:00:00", "claim_ends_at": "2030-12-31",
        "redeem_until": "2031-01-28", "station_ids": [w.luqiao_station], "rules": [],
    });
    let created = app
        .created("/api/v1/admin/campaigns", &w.luqiao_admin.access, body)
        .await;
    assert_eq!(created["claim_starts_at"], "2030-12-01T00:00:00Z");
    assert_eq!(created["redeem_until"], "2031-01-28T14:59:59Z");
}
