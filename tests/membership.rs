#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn me(app: &TestApp, token: &str) -> Value {
    app.get_auth("/api/v1/me", token).await.json().await.unwrap()
}

#[tokio::test]
async fn apply_approve_and_become_a_member() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (phone, worker) = app.worker().await;

    let applied = app
        .created(
            "/api/v1/me/membership-applications",
            &worker.access,
            json!({"union_id": w.luqiao}),
        )
        .await;
    assert_eq!(applied["status"], "pending");
    assert_eq!(me(&app, &worker.access).await["membership"]["status"], "pending");

    let pending: Value = app
        .get_auth(
            "/api/v1/admin/membership-applications?status=pending",
            &w.luqiao_admin.access,
        )
        .await
        .json()
        .await
        .unwrap();
    let listed = &pending["items"][0];
    assert_eq!(listed["id"], applied["id"]);
    assert_eq!(listed["applicant"]["name_masked"], "王**");
    assert_eq!(
        listed["applicant"]["phone_masked"],
        format!("{}****{}", &phone[..3], &phone[7..])
    );
    assert!(
        !pending.to_string().contains(&phone),
        "no full phone in staff lists"
    );

    let id = applied["id"].as_str().unwrap();
    let approved: Value = app
        .post_auth(
            &format!("/api/v1/admin/membership-applications/{id}/approve"),
            &w.luqiao_admin.access,
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(approved["status"], "approved");
    assert!(approved["decided_at"].is_string());
    assert!(approved["decided_by"].is_string());

    let membership = me(&app, &worker.access).await["membership"].clone();
    assert_eq!(membership["status"], "member");
    assert_eq!(membership["union_id"], w.luqiao.as_str());
    assert!(membership["member_no"].as_str().unwrap().starts_with("331004"));
    assert!(membership["since"].is_string());

    // Deciding twice is refused.
    let again = app
        .post_auth(
            &format!("/api/v1/admin/membership-applications/{id}/approve"),
            &w.luqiao_admin.access,
            &json!({}),
        )
        .await;
    assert_problem(again, 409, "APPLICATION_NOT_PENDING").await;
}

#[tokio::test]
async fn member_numbers_are_unique_per_union() {
    let app = spawn_app().await;
    let w = app.world().await;
    let mut numbers = std::collections::HashSet::new();
    for _ in 0..3 {
        let (_, tokens, _) = app.member(&w.luqiao, &w.luqiao_admin).await;
        numbers.insert(
            me(&app, &tokens.access).await["membership"]["member_no"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(numbers.len(), 3);
}

#[tokio::test]
async fn reject_with_a_reason() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (_, worker) = app.worker().await;
    let applied = app
        .created(
            "/api/v1/me/membership-applications",
            &worker.access,
            json!({"union_id": w.luqiao}),
        )
        .await;
    let path = format!(
        "/api/v1/admin/membership-applications/{}/reject",
        applied["id"].as_str().unwrap()
    );
    assert_problem(
        app.post_auth(&path, &w.luqiao_admin.access, &json!({})).await,
        400,
        "INVALID_REQUEST",
    )
    .await;
    let rejected: Value = app
        .post_auth(
            &path,
            &w.luqiao_admin.access,
            &json!({"reason": "请补充工作证明"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["reason"], "请补充工作证明");
    assert_eq!(me(&app, &worker.access).await["membership"]["status"], "none");
    let mine: Value = app
        .get_auth("/api/v1/me/membership-applications", &worker.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"][0]["status"], "rejected");
    assert_eq!(
        mine["items"][0]["reason"], "请补充工作证明",
        "the worker sees why"
    );
    // A rejected worker may apply again.
    app.created(
        "/api/v1/me/membership-applications",
        &worker.access,
        json!({"union_id": w.luqiao}),
    )
    .await;
}

#[tokio::test]
async fn applying_twice_or_as_a_member_is_a_conflict() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (_, worker) = app.worker().await;
    app.created(
        "/api/v1/me/membership-applications",
        &worker.access,
        json!({"union_id": w.luqiao}),
    )
    .await;
    let twice = app
        .post_auth(
            "/api/v1/me/membership-applications",
            &worker.access,
            &json!({"union_id": w.jiaojiang}),
        )
        .await;
    assert_problem(twice, 409, "APPLICATION_PENDING").await;

    let (_, member, _) = app.member(&w.luqiao, &w.luqiao_admin).await;
    let again = app
        .post_auth(
            "/api/v1/me/membership-applications",
            &member.access,
            &json!({"union_id": w.luqiao}),
        )
        .await;
    assert_problem(again, 409, "ALREADY_MEMBER").await;

    let unknown = app
        .post_auth(
            "/api/v1/me/membership-applications",
            &member.access,
            &json!({"union_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_problem(unknown, 404, "NOT_FOUND").await;
}

#[tokio::test]
async fn concurrent_applications_leave_one_pending() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (_, worker) = app.worker().await;
    let body = json!({"union_id": w.luqiao});
    let tries = (0..8).map(|_| app.post_auth("/api/v1/me/membership-applications", &worker.access, &body));
    let statuses: Vec<u16> = futures_util::future::join_all(tries)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
}

#[tokio::test]
async fn transfer_to_another_district_keeps_history_and_seniority() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (_, worker, _) = app.member(&w.luqiao, &w.luqiao_admin).await;
    let before = me(&app, &worker.access).await["membership"].clone();

    let same = app
        .post_auth(
            "/api/v1/me/membership-transfers",
            &worker.access,
            &json!({"to_union_id": w.luqiao}),
        )
        .await;
    assert_problem(same, 409, "ALREADY_MEMBER").await;
    let transfer = app
        .created(
            "/api/v1/me/membership-transfers",
            &worker.access,
            json!({"to_union_id": w.jiaojiang}),
        )
        .await;
    assert_eq!(transfer["kind"], "transfer");
    let id = transfer["id"].as_str().unwrap();

    // The source district can't approve it; the target district can.
    let wrong = app
        .post_auth(
            &format!("/api/v1/admin/membership-transfers/{id}/approve"),
            &w.luqiao_admin.access,
            &json!({}),
        )
        .await;
    assert_problem(wrong, 404, "NOT_FOUND").await;
    let listed: Value = app
        .get_auth("/api/v1/admin/membership-transfers", &w.jiaojiang_admin.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["id"], id);
    let ok = app
        .post_auth(
            &format!("/api/v1/admin/membership-transfers/{id}/approve"),
            &w.jiaojiang_admin.access,
            &json!({}),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK);

    let after = me(&app, &worker.access).await["membership"].clone();
    assert_eq!(after["union_id"], w.jiaojiang.as_str());
    assert!(after["member_no"].as_str().unwrap().starts_with("331002"));
    assert_eq!(after["since"], before["since"]);
}

#[tokio::test]
async fn transfer_needs_a_membership() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (_, worker) = app.worker().await;
    let resp = app
        .post_auth(
            "/api/v1/me/membership-transfers",
            &worker.access,
            &json!({"to_union_id": w.jiaojiang}),
        )
        .await;
    assert_problem(resp, 409, "NOT_A_MEMBER").await;
}

/// The join code the worker's app shows at the counter (the worker's consent).
async fn join_code(app: &TestApp, worker: &str) -> String {
    let body = app.created("/api/v1/me/join-codes", worker, json!({})).await;
    body["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_counter_files_an_onsite_join_for_its_own_union() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (phone, worker) = app.worker().await;
    let code = join_code(&app, &worker.access).await;
    let body = json!({"join_code": code, "union_id": w.luqiao, "station_id": w.luqiao_station});
    let filed = app
        .created(
            "/api/v1/counter/membership-applications",
            &w.luqiao_counter.access,
            body,
        )
        .await;
    assert_eq!(filed["status"], "pending");
    assert_eq!(filed["submitted_via"], "counter");
    assert_eq!(
        filed["applicant"]["phone_masked"],
        format!("{}****{}", &phone[..3], &phone[7..])
    );
    assert_eq!(me(&app, &worker.access).await["membership"]["status"], "pending");

    // Not at another district's union, not at a station it isn't bound to: each with a
    // fresh, valid code of another worker, so only the place is wrong.
    let (_, other) = app.worker().await;
    let other_code = join_code(&app, &other.access).await;
    let elsewhere = json!({"join_code": other_code, "union_id": w.jiaojiang});
    assert_problem(
        app.post_auth(
            "/api/v1/counter/membership-applications",
            &w.luqiao_counter.access,
            &elsewhere,
        )
        .await,
        403,
        "FORBIDDEN",
    )
    .await;
    let other_code = join_code(&app, &other.access).await;
    let not_bound = json!({"join_code": other_code, "union_id": w.luqiao, "station_id": w.luqiao_station_2});
    assert_problem(
        app.post_auth(
            "/api/v1/counter/membership-applications",
            &w.luqiao_counter.access,
            &not_bound,
        )
        .await,
        403,
        "FORBIDDEN",
    )
    .await;
    assert_eq!(me(&app, &other.access).await["membership"]["status"], "none");
    // A code nobody was given finds nobody.
    let unknown = if code == "00000000" {
        "00000001"
    } else {
        "00000000"
    };
    let unknown = json!({"join_code": unknown, "union_id": w.luqiao});
    assert_problem(
        app.post_auth(
            "/api/v1/counter/membership-applications",
            &w.luqiao_counter.access,
            &unknown,
        )
        .await,
        404,
        "NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn onsite_joins_are_approved_at_once_where_the_union_allows() {
    let app = spawn_app().await;
    let w = app.world().await;
    let body = json!({"name": "金清镇快递行业工会", "parent_id": w.luqiao, "region_code": "331004", "onsite_auto_approve": true});
    let grassroots = app
        .created("/api/v1/admin/unions", &w.luqiao_admin.access, body)
        .await;
    assert_eq!(grassroots["kind"], "grassroots");
    let gid = grassroots["id"].as_str().unwrap();
    let station = app
        .station(&w.luqiao_admin.access, gid, "金清快递驿站", 28.5, 121.5)
        .await;
    let counter = app
        .staff(&w.luqiao_admin.access, "counter", gid, &[&station])
        .await;
    let (_, worker) = app.worker().await;
    let code = join_code(&app, &worker.access).await;
    let filed = app
        .created(
            "/api/v1/counter/membership-applications",
            &counter.access,
            json!({"join_code": code, "union_id": gid}),
        )
        .await;
    assert_eq!(filed["status"], "approved");
    assert_eq!(me(&app, &worker.access).await["membership"]["status"], "member");

    // Where the union does not allow it, the same flow waits for an admin.
    let (_, waiting) = app.worker().await;
    let code = join_code(&app, &waiting.access).await;
    let filed = app
        .created(
            "/api/v1/counter/membership-applications",
            &w.luqiao_counter.access,
            json!({"join_code": code, "union_id": w.luqiao}),
        )
        .await;
    assert_eq!(filed["status"], "pending");
}
