//! Campaigns, eligibility with every reason, and the wallet.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use common::campaigns::courier_rules;
use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn eligibility_lists_every_unmet_condition() {
    let app = spawn_app().await;
    let w = app.world().await;
    let rules = json!([
        {"type": "membership_required"},
        {"type": "occupation_in", "values": ["courier"]},
        {"type": "region_in", "values": ["3302"]},
        {"type": "occupation_verified"}
    ]);
    let campaign = app
        .campaign(&w.luqiao_admin.access, &w.luqiao, 5, rules, &[&w.luqiao_station])
        .await;
    let (_, worker) = app.worker().await;
    let answer: Value = app
        .get_auth(
            &format!("/api/v1/campaigns/{campaign}/eligibility"),
            &worker.access,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["eligible"], false);
    let codes: Vec<&str> = answer["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "NOT_A_MEMBER",
            "OCCUPATION_NOT_COVERED",
            "REGION_NOT_COVERED",
            "OCCUPATION_NOT_VERIFIED"
        ]
    );
    assert!(answer["reasons"][1]["message"]
        .as_str()
        .unwrap()
        .contains("快递员"));

    let refused = assert_problem(app.claim(&campaign, &worker.access).await, 403, "NOT_ELIGIBLE").await;
    assert_eq!(refused["reasons"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn a_member_who_meets_the_rules_is_eligible_until_claimed() {
    let app = spawn_app().await;
    let w = app.world().await;
    let rules = json!([{"type": "member_of", "union_id": w.city}, {"type": "member_since_before", "date": "2099-01-01"}]);
    let campaign = app
        .campaign(&w.luqiao_admin.access, &w.luqiao, 1, rules, &[&w.luqiao_station])
        .await;
    let (_, member, _) = app.member(&w.luqiao, &w.luqiao_admin).await;
    let path = format!("/api/v1/campaigns/{campaign}/eligibility");
    let answer: Value = app.get_auth(&path, &member.access).await.json().await.unwrap();
    assert_eq!(
        answer,
        json!({"campaign_id": campaign, "eligible": true, "reasons": []})
    );
    assert_eq!(app.claim(&campaign, &member.access).await.status().as_u16(), 201);
    let after: Value = app.get_auth(&path, &member.access).await.json().await.unwrap();
    let codes: Vec<&str> = after["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["SOLD_OUT", "ALREADY_CLAIMED"]);
    let (_, late, _) = app.member(&w.luqiao, &w.luqiao_admin).await;
    assert_problem(app.claim(&campaign, &late.access).await, 409, "SOLD_OUT").await;
}

#[tokio::test]
async fn the_lifecycle_opens_pauses_and_closes_claims() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = &w.luqiao_admin.access;
    let draft = app
        .draft(admin, &w.luqiao, 10, courier_rules(), &[&w.luqiao_station])
        .await;
    assert_eq!(draft["status"], "draft");
    let id = draft["id"].as_str().unwrap();
    let rider = app.riders(1).await.remove(0);
    assert_problem(
        app.get_auth(&format!("/api/v1/campaigns/{id}"), &rider.access)
            .await,
        404,
        "NOT_FOUND",
    )
    .await;

    let app_ref = &app;
    let act = |verb: &'static str| {
        let path = format!("/api/v1/admin/campaigns/{id}/{verb}");
        async move { app_ref.post_auth(&path, admin, &json!({})).await }
    };
    assert_problem(act("pause").await, 409, "CAMPAIGN_STATE_CONFLICT").await;
    assert_eq!(act("publish").await.status().as_u16(), 200);
    let listed: Value = app
        .get_auth("/api/v1/campaigns", &rider.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["id"], id);
    assert_eq!(listed["items"][0]["remaining"], 10);

    assert_eq!(act("pause").await.status().as_u16(), 200);
    let listed: Value = app
        .get_auth("/api/v1/campaigns", &rider.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        0,
        "only published campaigns are listed"
    );
    assert_problem(app.claim(id, &rider.access).await, 409, "CAMPAIGN_NOT_OPEN").await;
    assert_eq!(act("publish").await.status().as_u16(), 200);
    assert_eq!(app.claim(id, &rider.access).await.status().as_u16(), 201);
    assert_eq!(act("close").await.status().as_u16(), 200);
    let late = app.riders(1).await.remove(0);
    assert_problem(app.claim(id, &late.access).await, 409, "CAMPAIGN_ENDED").await;
    assert_problem(act("publish").await, 409, "CAMPAIGN_STATE_CONFLICT").await;
}

#[tokio::test]
async fn after_publishing_stock_may_only_grow() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = &w.luqiao_admin.access;
    let id = app
        .campaign(admin, &w.luqiao, 10, courier_rules(), &[&w.luqiao_station])
        .await;
    let path = format!("/api/v1/admin/campaigns/{id}");
    assert_problem(
        app.patch_auth(&path, admin, &json!({"total_stock": 5})).await,
        409,
        "CAMPAIGN_STATE_CONFLICT",
    )
    .await;
    // Fixed once published: the item, the limit, the start (rules only until the first
    // voucher; see tests/releases.rs).
    assert_problem(
        app.patch_auth(&path, admin, &json!({"item_name": "别的"})).await,
        409,
        "CAMPAIGN_STATE_CONFLICT",
    )
    .await;
    let grown: Value = app
        .patch_auth(&path, admin, &json!({"total_stock": 15, "title": "加量"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(grown["total_stock"], 15);
    assert_eq!(grown["remaining"], 15);
    assert_eq!(grown["title"], "加量");
    assert_problem(
        app.patch_auth(&path, admin, &json!({"status": "closed"})).await,
        400,
        "INVALID_REQUEST",
    )
    .await;
}

#[tokio::test]
async fn campaigns_are_checked_when_written() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = &w.luqiao_admin.access;
    let unknown_rule = json!([{"type": "age_over", "value": 18}]);
    let resp = app
        .post_auth("/api/v1/admin/campaigns", admin, &json!({"union_id": w.luqiao, "title": "t", "item_name": "i", "total_stock": 1,
            "claim_starts_at": "2026-01-01T00:00:00Z", "claim_ends_at": "2026-02-01T00:00:00Z", "redeem_until": "2026-03-01T00:00:00Z", "rules": unknown_rule}))
        .await;
    let problem = assert_problem(resp, 400, "INVALID_REQUEST").await;
    assert!(problem["detail"].as_str().unwrap().contains("age_over"));
    let backwards = json!({"union_id": w.luqiao, "title": "t", "item_name": "i", "total_stock": 1, "rules": [],
        "claim_starts_at": "2026-02-01T00:00:00Z", "claim_ends_at": "2026-01-01T00:00:00Z", "redeem_until": "2026-03-01T00:00:00Z"});
    assert_problem(
        app.post_auth("/api/v1/admin/campaigns", admin, &backwards).await,
        400,
        "INVALID_REQUEST",
    )
    .await;
    let elsewhere = json!({"union_id": w.luqiao, "title": "t", "item_name": "i", "total_stock": 1, "rules": [], "station_ids": [w.jiaojiang_station],
        "claim_starts_at": "2026-01-01T00:00:00Z", "claim_ends_at": "2026-02-01T00:00:00Z", "redeem_until": "2026-03-01T00:00:00Z"});
    assert_problem(
        app.post_auth("/api/v1/admin/campaigns", admin, &elsewhere).await,
        400,
        "INVALID_REQUEST",
    )
    .await;
    let other_union = json!({"union_id": w.jiaojiang, "title": "t", "item_name": "i", "total_stock": 1, "rules": [],
        "claim_starts_at": "2026-01-01T00:00:00Z", "claim_ends_at": "2026-02-01T00:00:00Z", "redeem_until": "2026-03-01T00:00:00Z"});
    assert_problem(
        app.post_auth("/api/v1/admin/campaigns", admin, &other_union)
            .await,
        403,
        "FORBIDDEN",
    )
    .await;

    let id = app
        .campaign(admin, &w.luqiao, 3, courier_rules(), &[&w.luqiao_station])
        .await;
    let stats = app
        .get_auth(
            &format!("/api/v1/admin/campaigns/{id}/stats"),
            &w.jiaojiang_admin.access,
        )
        .await;
    assert_problem(stats, 404, "NOT_FOUND").await;
}

#[tokio::test]
async fn a_dry_run_counts_the_members_the_rules_admit() {
    let app = spawn_app().await;
    let w = app.world().await;
    let rules = json!([{"type": "membership_required"}, {"type": "hardship_archived"}]);
    let draft = app
        .draft(&w.luqiao_admin.access, &w.luqiao, 10, rules, &[&w.luqiao_station])
        .await;
    let (_, _, hardship) = app.member(&w.luqiao, &w.luqiao_admin).await;
    app.member(&w.luqiao, &w.luqiao_admin).await;
    app.member(&w.jiaojiang, &w.jiaojiang_admin).await;
    app.patch_auth(
        &format!("/api/v1/admin/workers/{hardship}"),
        &w.luqiao_admin.access,
        &json!({"hardship_archived": true}),
    )
    .await;
    let preview: Value = app
        .get_auth(
            &format!(
                "/api/v1/admin/campaigns/{}/dry-run",
                draft["id"].as_str().unwrap()
            ),
            &w.luqiao_admin.access,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(preview["members_considered"], 2, "only the admin's own subtree");
    assert_eq!(preview["admitted"], 1);
    assert_eq!(preview["unmet"]["NOT_HARDSHIP_ARCHIVED"], 1);
}

#[tokio::test]
async fn the_wallet_shows_cancels_and_expires() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let riders = app.riders(2).await;
    let voucher: Value = app
        .claim(&campaign, &riders[0].access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(voucher["status"], "issued");
    assert!(voucher["qr_payload"]
        .as_str()
        .unwrap()
        .ends_with(&voucher["code"].as_str().unwrap().replace('-', "")));
    let id = voucher["id"].as_str().unwrap();

    let shown: Value = app
        .get_auth(&format!("/api/v1/me/vouchers/{id}"), &riders[0].access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown, voucher);
    assert_problem(
        app.get_auth(&format!("/api/v1/me/vouchers/{id}"), &riders[1].access)
            .await,
        404,
        "NOT_FOUND",
    )
    .await;
    let steal = app
        .post_auth(
            &format!("/api/v1/me/vouchers/{id}/cancel"),
            &riders[1].access,
            &json!({}),
        )
        .await;
    assert_problem(steal, 404, "NOT_FOUND").await;

    assert_eq!(app.stats(&campaign, &w.luqiao_admin.access).await["remaining"], 4);
    let cancelled: Value = app
        .post_auth(
            &format!("/api/v1/me/vouchers/{id}/cancel"),
            &riders[0].access,
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    let stats = app.stats(&campaign, &w.luqiao_admin.access).await;
    assert_eq!(
        (stats["remaining"].as_i64(), stats["cancelled"].as_i64()),
        (Some(5), Some(1))
    );
    let again = app
        .post_auth(
            &format!("/api/v1/me/vouchers/{id}/cancel"),
            &riders[0].access,
            &json!({}),
        )
        .await;
    assert_problem(again, 409, "VOUCHER_NOT_ACTIVE").await;

    // Past the redeem deadline a voucher reads as expired everywhere.
    let other: Value = app
        .claim(&campaign, &riders[1].access)
        .await
        .json()
        .await
        .unwrap();
    app.sql(&format!(
        "UPDATE vouchers SET expires_at = '2020-01-01 00:00:00' WHERE id = '{}'",
        other["id"].as_str().unwrap()
    ));
    let wallet: Value = app.wallet(&riders[1].access).await;
    assert_eq!(wallet["items"][0]["status"], "expired");
    let stats = app.stats(&campaign, &w.luqiao_admin.access).await;
    assert_eq!(
        (stats["expired"].as_i64(), stats["issued_unredeemed"].as_i64()),
        (Some(1), Some(0))
    );
    // One `remaining` everywhere (contract v1.1): released units not held by a live
    // voucher, so an expired voucher's unit counts at once, before the job returns it.
    assert_eq!(stats["remaining"], 5, "the one definition of remaining");
    let late = app
        .post_auth(
            &format!("/api/v1/me/vouchers/{}/cancel", other["id"].as_str().unwrap()),
            &riders[1].access,
            &json!({}),
        )
        .await;
    assert_problem(late, 409, "VOUCHER_NOT_ACTIVE").await;
}

#[tokio::test]
async fn concurrent_stock_edits_never_leave_stock_and_total_apart() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = &w.luqiao_admin.access;
    let id = app
        .campaign(admin, &w.luqiao, 10, courier_rules(), &[&w.luqiao_station])
        .await;
    let path = format!("/api/v1/admin/campaigns/{id}");
    let bodies: Vec<Value> = (1..=6).map(|i| json!({"total_stock": 10 + 5 * i})).collect();
    let edits = bodies.iter().map(|body| app.patch_auth(&path, admin, body));
    let statuses: Vec<u16> = futures_util::future::join_all(edits)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert!(statuses.contains(&200), "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "{statuses:?}");
    let stats = app.stats(&id, admin).await;
    assert_eq!(stats["total_stock"], stats["remaining"], "{stats}");
}

#[tokio::test]
async fn corrupted_rules_close_a_campaign_instead_of_opening_it() {
    let app = spawn_app().await;
    let w = app.world().await;
    let id = app.luqiao_campaign(&w, 5).await;
    app.sql(&format!(
        "UPDATE campaigns SET rules = 'not json' WHERE id = '{id}'"
    ));
    let rider = app.riders(1).await.remove(0);
    let refused = assert_problem(app.claim(&id, &rider.access).await, 500, "INTERNAL").await;
    assert!(
        refused.get("detail").is_none(),
        "a 500 tells nothing of its cause: {refused}"
    );
    assert_eq!(app.stats(&id, &w.luqiao_admin.access).await["claimed"], 0);
}
