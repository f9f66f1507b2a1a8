//! What a partner may do with its token (issue 11; contract v1.1 "Partners (third-party
//! apps)"): attest a rider's occupation by phone, applied now or at registration and shown
//! to admins with the phone masked; read only the workers who granted it, and lose them the
//! moment a grant is taken back; every call in the audit trail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use chrono::{Duration, Utc};
use common::campaigns::courier_rules;
use common::jobs::sql_time;
use common::partners::reason_codes;
use common::*;
use diesel::prelude::*;
use serde_json::{json, Value};
use zhijian::db::schema::partner_calls;

/// The couriers' pack as the README tells unions to write it for platform workers.
fn verified_courier_rules() -> Value {
    let mut rules = courier_rules();
    rules
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "occupation_verified"}));
    rules
}

/// An attestation's id from its 202 answer.
async fn accepted(resp: reqwest::Response) -> String {
    assert_eq!(resp.status().as_u16(), 202);
    resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `GET /admin/attestations` as `admin`: the items and the raw text.
async fn attestations_seen(app: &TestApp, admin: &str) -> (Vec<Value>, String) {
    let resp = app.get_auth("/api/v1/admin/attestations", admin).await;
    assert_eq!(resp.status().as_u16(), 200);
    let text = resp.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    (body["items"].as_array().unwrap().clone(), text)
}

fn ids(items: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn an_attestation_made_before_registration_is_applied_when_the_phone_registers() {
    let app = spawn_app().await;
    let w = app.world().await;
    let p = app
        .partner(
            &w.luqiao_admin.access,
            &w.luqiao,
            "美团配送",
            &["attestations:write"],
        )
        .await;
    let token = app.partner_token(&p, None).await;
    let phone = random_phone();
    let attestation = accepted(app.attest(&token, &phone, "food_delivery").await).await;

    // The rider signs up declaring something else; the platform's word is what counts.
    let resp = app
        .post(
            "/api/v1/auth/register",
            &json!({"phone": phone, "password": PASSWORD, "name": "李骑手", "occupation": "other", "region_code": "331004"}),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 201);
    let rider = app.login_ok(&phone).await;
    let me = app.me(&rider.access).await;
    assert_eq!(me["occupation"], "food_delivery", "{me}");
    assert_eq!(me["occupation_verified"], true);
    assert_eq!(me["occupation_verified_by"], "美团配送");
    assert_eq!(me["employer"], "美团外卖");
    let (items, _) = attestations_seen(&app, &w.luqiao_admin.access).await;
    let item = items.iter().find(|i| i["id"] == attestation.as_str()).unwrap();
    assert!(item["applied_at"].is_string(), "{item}");

    let campaign = app
        .campaign(
            &w.luqiao_admin.access,
            &w.luqiao,
            10,
            verified_courier_rules(),
            &[&w.luqiao_station],
        )
        .await;
    let answer = app.eligibility(&campaign, &rider.access).await;
    assert_eq!(answer["eligible"], true, "{answer}");
    assert_eq!(app.claim(&campaign, &rider.access).await.status().as_u16(), 201);

    // A worker who only says "food delivery" does not get the platform riders' pack.
    let (_, declared) = app.worker().await;
    let answer = app.eligibility(&campaign, &declared.access).await;
    assert_eq!(answer["eligible"], false);
    assert_eq!(reason_codes(&answer), ["OCCUPATION_NOT_VERIFIED"]);
    let refused = assert_problem(app.claim(&campaign, &declared.access).await, 403, "NOT_ELIGIBLE").await;
    assert_eq!(reason_codes(&refused), ["OCCUPATION_NOT_VERIFIED"]);
}

#[tokio::test]
async fn an_attestation_answers_alike_whether_or_not_the_phone_is_registered() {
    let app = spawn_app().await;
    let w = app.world().await;
    let p = app
        .partner(
            &w.luqiao_admin.access,
            &w.luqiao,
            "美团配送",
            &["attestations:write"],
        )
        .await;
    let token = app.partner_token(&p, None).await;
    let (registered, _) = app.worker().await;
    let unregistered = random_phone();
    // Anything more than an id would tell a platform who is registered here.
    for phone in [&registered, &unregistered] {
        let resp = app.attest(&token, phone, "food_delivery").await;
        assert_eq!(resp.status().as_u16(), 202);
        let body: Value = resp.json().await.unwrap();
        let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["id"], "{body}");
        assert!(
            uuid::Uuid::parse_str(body["id"].as_str().unwrap()).is_ok(),
            "{body}"
        );
    }
}

#[tokio::test]
async fn attesting_a_registered_worker_applies_at_once_and_a_changed_occupation_loses_it() {
    let app = spawn_app().await;
    let w = app.world().await;
    let p = app
        .partner(
            &w.luqiao_admin.access,
            &w.luqiao,
            "滴滴出行",
            &["attestations:write"],
        )
        .await;
    let token = app.partner_token(&p, None).await;
    let (phone, worker) = app.worker().await;
    let me = app.me(&worker.access).await;
    assert_eq!(me["occupation_verified"], false);
    assert!(me["occupation_verified_by"].is_null());

    accepted(app.attest(&token, &phone, "courier").await).await;
    let me = app.me(&worker.access).await;
    assert_eq!(me["occupation"], "courier");
    assert_eq!(me["occupation_verified"], true);
    assert_eq!(me["occupation_verified_by"], "滴滴出行");

    // Editing something else keeps the verification.
    let resp = app
        .patch_auth("/api/v1/me", &worker.access, &json!({"name": "王大明"}))
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["occupation_verified"], true);

    // Another occupation is the worker's own word again, not the platform's.
    let resp = app
        .patch_auth(
            "/api/v1/me",
            &worker.access,
            &json!({"occupation": "food_delivery"}),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let me = app.me(&worker.access).await;
    assert_eq!(me["occupation"], "food_delivery");
    assert_eq!(me["occupation_verified"], false, "{me}");
    assert!(me["occupation_verified_by"].is_null(), "{me}");
    let campaign = app
        .campaign(
            &w.luqiao_admin.access,
            &w.luqiao,
            10,
            verified_courier_rules(),
            &[&w.luqiao_station],
        )
        .await;
    let answer = app.eligibility(&campaign, &worker.access).await;
    assert_eq!(reason_codes(&answer), ["OCCUPATION_NOT_VERIFIED"]);
}

#[tokio::test]
async fn an_attestation_older_than_90_days_is_not_applied_at_registration() {
    let app = spawn_app().await;
    let w = app.world().await;
    let p = app
        .partner(
            &w.luqiao_admin.access,
            &w.luqiao,
            "美团配送",
            &["attestations:write"],
        )
        .await;
    let token = app.partner_token(&p, None).await;
    let phone = random_phone();
    let id = accepted(app.attest(&token, &phone, "food_delivery").await).await;
    let made = Utc::now() - Duration::days(91);
    app.sql(&format!(
        "UPDATE attestations SET created_at = '{}', expires_at = '{}' WHERE id = '{id}'",
        sql_time(made),
        sql_time(made + Duration::days(90)),
    ));

    // A number changes hands; a stale word about its old owner must not follow it.
    app.register(&phone, "新机主").await;
    let me = app.me(&app.login_ok(&phone).await.access).await;
    assert_eq!(me["occupation_verified"], false, "{me}");
    assert!(me["occupation_verified_by"].is_null(), "{me}");
}

#[tokio::test]
async fn a_partner_reads_only_workers_who_granted_it_and_none_after_a_revoke() {
    let app = spawn_app().await;
    let w = app.world().await;
    let p = app
        .partner(
            &w.luqiao_admin.access,
            &w.luqiao,
            "美团配送",
            &["workers:read", "vouchers:read"],
        )
        .await;
    let token = app.partner_token(&p, None).await;
    let campaign = app.luqiao_campaign(&w, 10).await;
    let hardship_members = app
        .campaign(
            &w.luqiao_admin.access,
            &w.luqiao,
            10,
            json!([{"type": "membership_required"}, {"type": "hardship_archived"}]),
            &[&w.luqiao_station],
        )
        .await;
    let (_, rider) = app.worker().await;
    let rider_id = app.me(&rider.access).await["id"].as_str().unwrap().to_owned();
    let resp = app.claim(&campaign, &rider.access).await;
    assert_eq!(resp.status().as_u16(), 201);
    let voucher: Value = resp.json().await.unwrap();
    let (_, other) = app.worker().await;
    let other_id = app.me(&other.access).await["id"].as_str().unwrap().to_owned();

    let vouchers = format!("/api/v1/partner/workers/{rider_id}/vouchers");
    let eligibility =
        format!("/api/v1/partner/workers/{rider_id}/eligibility?campaign_id={hardship_members}");
    // Before any grant the worker does not exist for the partner.
    assert_problem(app.get_auth(&vouchers, &token).await, 404, "NOT_FOUND").await;
    assert_problem(app.get_auth(&eligibility, &token).await, 404, "NOT_FOUND").await;

    let directory: Value = app
        .get_auth("/api/v1/partners", &rider.access)
        .await
        .json()
        .await
        .unwrap();
    assert!(directory["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["id"] == p.id.as_str() && i["name"] == "美团配送"));
    let grant = app
        .created(
            "/api/v1/me/partner-grants",
            &rider.access,
            json!({"partner_id": p.id}),
        )
        .await;
    assert_eq!(grant["partner_id"], p.id.as_str());
    assert_eq!(grant["partner_name"], "美团配送");
    let grant_id = grant["id"].as_str().unwrap().to_owned();
    let mine: Value = app
        .get_auth("/api/v1/me/partner-grants", &rider.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        ids(mine["items"].as_array().unwrap()),
        std::slice::from_ref(&grant_id)
    );

    let listed: Value = app
        .get_auth("/api/v1/partner/workers", &token)
        .await
        .json()
        .await
        .unwrap();
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{listed}");
    assert_eq!(items[0]["worker_id"], rider_id.as_str());
    assert!(items[0]["granted_at"].is_string());
    let masked = items[0]["name_masked"].as_str().unwrap();
    assert!(masked.starts_with('王') && !masked.contains("小明"), "{masked}");

    // The same answer the worker gets, every reason included.
    let resp = app.get_auth(&eligibility, &token).await;
    assert_eq!(resp.status().as_u16(), 200);
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(answer["worker_id"], rider_id.as_str());
    assert_eq!(answer["campaign_id"], hardship_members.as_str());
    assert_eq!(answer["eligible"], false);
    assert_eq!(reason_codes(&answer), ["NOT_A_MEMBER", "NOT_HARDSHIP_ARCHIVED"]);
    assert_eq!(
        reason_codes(&answer),
        reason_codes(&app.eligibility(&hardship_members, &rider.access).await)
    );

    // The wallet with its code, to show at the counter inside the platform's app.
    let resp = app.get_auth(&vouchers, &token).await;
    assert_eq!(resp.status().as_u16(), 200);
    let wallet: Value = resp.json().await.unwrap();
    assert_eq!(wallet["items"][0]["id"], voucher["id"]);
    assert_eq!(wallet["items"][0]["code"], voucher["code"]);
    assert!(voucher["code"].is_string());
    // A worker who granted nothing stays invisible.
    let others = format!("/api/v1/partner/workers/{other_id}/vouchers");
    assert_problem(app.get_auth(&others, &token).await, 404, "NOT_FOUND").await;

    // Only the worker who granted can take it back.
    let revoke = format!("/api/v1/me/partner-grants/{grant_id}");
    assert_problem(app.delete_auth(&revoke, &other.access).await, 404, "NOT_FOUND").await;
    assert_eq!(app.get_auth(&vouchers, &token).await.status().as_u16(), 200);

    assert_eq!(
        app.delete_auth(&revoke, &rider.access).await.status().as_u16(),
        204
    );
    // The very next read: no cache, no grace period.
    assert_problem(app.get_auth(&vouchers, &token).await, 404, "NOT_FOUND").await;
    assert_problem(app.get_auth(&eligibility, &token).await, 404, "NOT_FOUND").await;
    let listed: Value = app
        .get_auth("/api/v1/partner/workers", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"], json!([]));
    let mine: Value = app
        .get_auth("/api/v1/me/partner-grants", &rider.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"], json!([]));
}

#[tokio::test]
async fn admins_see_the_attestations_of_their_subtree_with_phones_masked() {
    let app = spawn_app().await;
    let w = app.world().await;
    let meituan = app
        .partner(
            &w.luqiao_admin.access,
            &w.luqiao,
            "美团配送",
            &["attestations:write"],
        )
        .await;
    let didi = app
        .partner(
            &w.jiaojiang_admin.access,
            &w.jiaojiang,
            "滴滴出行",
            &["attestations:write"],
        )
        .await;
    let (luqiao_phone, jiaojiang_phone) = (random_phone(), random_phone());
    let ours = accepted(
        app.attest(
            &app.partner_token(&meituan, None).await,
            &luqiao_phone,
            "food_delivery",
        )
        .await,
    )
    .await;
    let theirs = accepted(
        app.attest(
            &app.partner_token(&didi, None).await,
            &jiaojiang_phone,
            "ride_hailing",
        )
        .await,
    )
    .await;

    let (items, text) = attestations_seen(&app, &w.luqiao_admin.access).await;
    assert_eq!(ids(&items), std::slice::from_ref(&ours));
    // A list of riders' phone numbers is exactly what must not leak from an admin screen.
    assert!(
        !text.contains(&luqiao_phone) && !text.contains(&jiaojiang_phone),
        "{text}"
    );
    let item = &items[0];
    assert_eq!(
        item["phone_masked"],
        format!("{}****{}", &luqiao_phone[..3], &luqiao_phone[7..])
    );
    assert_eq!(item["partner_id"], meituan.id.as_str());
    assert_eq!(item["partner_name"], "美团配送");
    assert_eq!(item["occupation"], "food_delivery");
    assert_eq!(item["reference"], "MT-RIDER-0001");
    // Nobody registered that phone yet.
    assert!(item["applied_at"].is_null(), "{item}");

    // Another district sees only its own.
    let (items, text) = attestations_seen(&app, &w.jiaojiang_admin.access).await;
    assert_eq!(ids(&items), std::slice::from_ref(&theirs));
    assert!(!text.contains(&jiaojiang_phone), "{text}");

    // The city above both sees both.
    let city_admin = app.staff(&w.platform.access, "union_admin", &w.city, &[]).await;
    let (items, _) = attestations_seen(&app, &city_admin.access).await;
    let mut both = [ours, theirs];
    both.sort();
    assert_eq!(ids(&items), both);
}

#[tokio::test]
async fn every_partner_call_is_written_to_the_audit_trail() {
    let app = spawn_app().await;
    let w = app.world().await;
    let p = app
        .partner(&w.luqiao_admin.access, &w.luqiao, "美团配送", &["workers:read"])
        .await;
    let token = app.partner_token(&p, None).await;
    let stranger = uuid::Uuid::now_v7();
    let campaign = uuid::Uuid::now_v7();
    assert_eq!(
        app.get_auth("/api/v1/partner/workers", &token)
            .await
            .status()
            .as_u16(),
        200
    );
    // Refused calls are recorded too: they are what an audit looks for.
    let no_scope = format!("/api/v1/partner/workers/{stranger}/vouchers");
    assert_eq!(app.get_auth(&no_scope, &token).await.status().as_u16(), 403);
    let not_granted = format!("/api/v1/partner/workers/{stranger}/eligibility?campaign_id={campaign}");
    assert_eq!(app.get_auth(&not_granted, &token).await.status().as_u16(), 404);

    let pool = zhijian::db::connect(&app.config.database_url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let mut calls: Vec<(String, String, i32)> = partner_calls::table
        .filter(partner_calls::partner_id.eq(p.id.as_str()))
        .select((partner_calls::method, partner_calls::route, partner_calls::status))
        .load(&mut *conn)
        .unwrap();
    calls.sort();
    let expected = [
        ("GET", "/api/v1/partner/workers", 200),
        ("GET", "/api/v1/partner/workers/{id}/eligibility", 404),
        ("GET", "/api/v1/partner/workers/{id}/vouchers", 403),
    ];
    let expected: Vec<(String, String, i32)> = expected
        .iter()
        .map(|(m, r, s)| ((*m).to_owned(), (*r).to_owned(), *s))
        .collect();
    assert_eq!(calls, expected);
}
