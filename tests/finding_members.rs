//! Finding people (issue 12): an admin finds a member of the subtree by full phone or
//! member number (masked in the list), opens the full profile only with an audit entry of
//! who looked, and ends a membership with a reason the worker is told.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use common::jobs::{of_kind, utc};
use common::partners::reason_codes;
use common::*;
use serde_json::{json, Value};

async fn ok(resp: reqwest::Response) -> Value {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

/// `GET /admin/workers?{key}={value}`, the value encoded as a query parameter.
async fn find(app: &TestApp, token: &str, key: &str, value: &str) -> reqwest::Response {
    app.client
        .get(app.url("/api/v1/admin/workers"))
        .bearer_auth(token)
        .query(&[(key, value)])
        .send()
        .await
        .unwrap()
}

async fn found(app: &TestApp, token: &str, key: &str, value: &str) -> (Value, Vec<Value>) {
    let page = ok(find(app, token, key, value).await).await;
    let items = page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{key}={value}: {page}"))
        .clone();
    (page, items)
}

async fn member_no(app: &TestApp, worker: &Tokens) -> String {
    let me = app.me(&worker.access).await;
    assert_eq!(me["membership"]["status"], "member", "{me}");
    me["membership"]["member_no"].as_str().unwrap().to_owned()
}

fn masked(phone: &str) -> String {
    format!("{}****{}", &phone[..3], &phone[7..])
}

#[tokio::test]
async fn an_admin_finds_a_member_of_the_subtree_by_phone_or_member_number() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = &w.luqiao_admin.access;
    let (phone, worker, id) = app.member(&w.luqiao, &w.luqiao_admin).await;
    let no = member_no(&app, &worker).await;

    for (key, value) in [("phone", phone.as_str()), ("member_no", no.as_str())] {
        let (page, items) = found(&app, admin, key, value).await;
        assert_eq!(items.len(), 1, "{key}: {page}");
        let item = &items[0];
        assert_eq!(item["id"], id.as_str(), "{key}: {item}");
        assert_eq!(item["member_no"], no.as_str());
        assert_eq!(item["union_id"], w.luqiao.as_str());
        assert_eq!(item["phone_masked"], masked(&phone));
        assert_eq!(item["name_masked"], "王**");
        assert!(
            item["membership_id"].as_str().is_some_and(|m| !m.is_empty()),
            "{item}"
        );
        assert!(
            item.get("phone").is_none() && item.get("name").is_none(),
            "{item}"
        );
        assert!(
            !page.to_string().contains(&phone),
            "no full phone in the list: {page}"
        );
        assert!(!page.to_string().contains("王小明"), "no full name: {page}");
    }

    // A member of another district is not found from 路桥, by either key; its own office finds it.
    let (other_phone, other_worker, other_id) = app.member(&w.jiaojiang, &w.jiaojiang_admin).await;
    let other_no = member_no(&app, &other_worker).await;
    for (key, value) in [("phone", other_phone.as_str()), ("member_no", other_no.as_str())] {
        let (page, items) = found(&app, admin, key, value).await;
        assert!(items.is_empty(), "{key}: {page}");
        let (page, items) = found(&app, &w.jiaojiang_admin.access, key, value).await;
        assert_eq!(items.len(), 1, "{key}: {page}");
        assert_eq!(items[0]["id"], other_id.as_str());
    }

    let malformed = find(&app, admin, "phone", "12345").await;
    let problem = assert_problem(malformed, 400, "INVALID_REQUEST").await;
    assert_eq!(problem["errors"][0]["field"], "phone", "{problem}");
}

#[tokio::test]
async fn the_full_profile_is_shown_within_the_subtree_and_every_view_is_audited() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = &w.luqiao_admin.access;
    let (phone, worker, id) = app.member(&w.luqiao, &w.luqiao_admin).await;
    let no = member_no(&app, &worker).await;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let claimed = app.claim(&campaign, &worker.access).await;
    assert_eq!(claimed.status().as_u16(), 201);
    let voucher: Value = claimed.json().await.unwrap();

    let path = format!("/api/v1/admin/workers/{id}");
    let profile = app.read_ok(&path, admin).await;
    assert_eq!(profile["id"], id.as_str());
    assert_eq!(profile["phone"], phone.as_str(), "the full phone: {profile}");
    assert_eq!(profile["name"], "王小明", "the full name: {profile}");
    let membership = &profile["membership"];
    assert_eq!(membership["member_no"], no.as_str(), "{profile}");
    assert_eq!(membership["union_id"], w.luqiao.as_str());
    assert_eq!(membership["union_name"], "路桥区总工会");
    let vouchers = profile["vouchers"].as_array().unwrap();
    let held = vouchers
        .iter()
        .find(|v| v["id"] == voucher["id"])
        .unwrap_or_else(|| panic!("the claimed voucher is listed: {profile}"));
    assert_eq!(held["status"], "issued", "{held}");
    assert_eq!(held["campaign_id"], campaign.as_str());
    utc(&held["issued_at"]);

    // Another district's office does not see the person at all.
    let elsewhere = app.get_auth(&path, &w.jiaojiang_admin.access).await;
    assert_problem(elsewhere, 404, "NOT_FOUND").await;

    // A second look is a second record; each names who looked.
    app.read_ok(&path, admin).await;
    let admin_id = app.me(admin).await["id"].as_str().unwrap().to_owned();
    let audit = app
        .read_ok(
            &format!("/api/v1/admin/audit-events?action=pii.viewed&subject_id={id}"),
            admin,
        )
        .await;
    let entries = audit["items"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "one entry per view: {audit}");
    for e in entries {
        assert_eq!(e["action"], "pii.viewed", "{e}");
        assert_eq!(e["subject_type"], "user", "{e}");
        assert_eq!(e["subject_id"], id.as_str(), "{e}");
        assert_eq!(e["actor_id"], admin_id.as_str(), "{e}");
    }
}

#[tokio::test]
async fn an_ended_membership_ends_eligibility_at_once_and_the_worker_is_told() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = &w.luqiao_admin.access;
    let (_, worker, id) = app.member(&w.luqiao, &w.luqiao_admin).await;
    let no = member_no(&app, &worker).await;
    let campaign = app
        .campaign(
            admin,
            &w.luqiao,
            5,
            json!([{"type": "membership_required"}]),
            &[&w.luqiao_station],
        )
        .await;
    let before = app.eligibility(&campaign, &worker.access).await;
    assert_eq!(before["eligible"], true, "{before}");

    let (_, items) = found(&app, admin, "member_no", &no).await;
    let membership_id = items[0]["membership_id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/admin/memberships/{membership_id}/end");
    let reason = json!({"reason": "已离职"});

    // Another district's office cannot end it, and trying changes nothing.
    let elsewhere = app.post_auth(&path, &w.jiaojiang_admin.access, &reason).await;
    assert_problem(elsewhere, 404, "NOT_FOUND").await;
    assert_eq!(app.me(&worker.access).await["membership"]["status"], "member");

    let ended = ok(app.post_auth(&path, admin, &reason).await).await;
    assert_eq!(ended["id"], membership_id.as_str(), "{ended}");
    assert_eq!(ended["user_id"], id.as_str());
    assert_eq!(ended["member_no"], no.as_str());
    assert_eq!(ended["end_reason"], "已离职");
    utc(&ended["ended_at"]);

    assert_eq!(app.me(&worker.access).await["membership"]["status"], "none");
    let after = app.eligibility(&campaign, &worker.access).await;
    assert_eq!(after["eligible"], false, "{after}");
    assert!(
        reason_codes(&after).iter().any(|c| c == "NOT_A_MEMBER"),
        "{after}"
    );

    let again = app.post_auth(&path, admin, &reason).await;
    assert_problem(again, 409, "MEMBERSHIP_ENDED").await;

    let inbox = app.inbox(&worker.access).await;
    assert_eq!(of_kind(&inbox, "membership_ended").len(), 1, "{inbox:?}");
}
