//! Allocation (精准发放, issue 14): a union hands one voucher to every current member of
//! its subtree whom the rules admit, in batches that survive a crash between them, and
//! tops up later without ever giving anyone a second one; workers cannot claim such a
//! campaign themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use std::process::{Child, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;
use common::jobs::{campaign_body, of_kind, sql_time};
use common::partners::reason_codes;
use common::readable::{assert_invalid, has_chinese};
use common::world::World;
use common::*;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use serde_json::{json, Value};
use zhijian::auth::jwt::JwtKeys;
use zhijian::auth::sessions;
use zhijian::config::Config;
use zhijian::domain::ids::UserId;
use zhijian::domain::profile::Role;

#[tokio::test]
async fn allocation_gives_exactly_one_voucher_to_each_of_300_hardship_workers_among_2000() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = w.luqiao_admin.access.as_str();
    let roster = members(&app, &w.luqiao, 2000, 300).await;
    // Hardship workers the campaign does not reach: another district's members, and
    // former members of 路桥.
    let elsewhere = members(&app, &w.jiaojiang, 10, 10).await;
    let former = members(&app, &w.luqiao, 10, 10).await;
    app.sql(&format!(
        "UPDATE memberships SET ended_at = '{}' WHERE user_id IN ({})",
        sql_time(Utc::now() - chrono::Duration::days(1)),
        quoted(&former.hardship)
    ));

    let id = draft_allocation(&app, &w, 300).await;
    let (status, published) = publish(&app, &id, admin).await;
    assert_eq!(status, 200, "{published}");
    assert_eq!(published["allocated"], 300, "{published}");
    assert_eq!(published["status"], "published", "{published}");
    assert_eq!(published["mode"], "allocate", "{published}");
    assert_eq!(published["fulfilment"], "delivery", "{published}");

    assert_eq!(vouchers(&app, &id), 300);
    assert_eq!(holders(&app, &id), 300);
    assert_eq!(hardship_members_holding(&app, &id, &w.luqiao), 300);
    let outsiders: Vec<String> = [elsewhere.hardship, former.hardship].concat();
    assert_eq!(held_by(&app, &id, &outsiders), 0, "outside the subtree");
    assert_eq!(held_by(&app, &id, &roster.others), 0, "not on the register");
    assert_eq!(allocation_notices(&app), 300);

    let stats = app.stats(&id, admin).await;
    assert_eq!(stats["claimed"], 300, "{stats}");
    assert_eq!(stats["remaining"], 0, "{stats}");
    assert_stock_adds_up(&stats);

    // One of them, signed in: the voucher is in the wallet, and the inbox says so.
    let worker = sign_in(&app, &roster.hardship[137]).await;
    let wallet = app.wallet(&worker).await;
    let mine = of_campaign(&wallet, &id);
    assert_eq!(mine.len(), 1, "{wallet}");
    assert_eq!(mine[0]["status"], "issued", "{wallet}");
    let voucher = mine[0]["id"].clone();
    let inbox = app.inbox(&worker).await;
    let told = of_kind(&inbox, "voucher_allocated");
    assert_eq!(told.len(), 1, "{inbox:?}");
    assert!(
        told[0]["campaign_id"] == id.as_str() || told[0]["voucher_id"] == voucher,
        "the notice points at the allocation: {inbox:?}"
    );

    // A worker not on the register got nothing, and was told nothing.
    let passed_over = sign_in(&app, &roster.others[0]).await;
    assert!(of_campaign(&app.wallet(&passed_over).await, &id).is_empty());
    assert!(of_kind(&app.inbox(&passed_over).await, "voucher_allocated").is_empty());

    // Nobody claims an allocated campaign: neither a holder nor anyone else.
    for token in [&worker, &passed_over] {
        assert_problem(app.claim(&id, token).await, 409, "CAMPAIGN_NOT_OPEN").await;
    }
    assert_eq!(vouchers(&app, &id), 300);
}

#[tokio::test]
async fn more_admitted_than_stock_is_refused_with_the_count_and_nothing_is_issued() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = w.luqiao_admin.access.as_str();
    let roster = members(&app, &w.luqiao, 2000, 301).await;
    let id = draft_allocation(&app, &w, 300).await;

    let resp = app
        .post_auth(
            &format!("/api/v1/admin/campaigns/{id}/publish"),
            admin,
            &json!({}),
        )
        .await;
    let problem = assert_problem(resp, 409, "STOCK_INSUFFICIENT").await;
    assert_eq!(problem["admitted"], 301, "{problem}");
    assert_eq!(problem["available"], 300, "{problem}");
    assert_eq!(vouchers(&app, &id), 0);
    assert_eq!(allocation_notices(&app), 0);
    assert_eq!(campaign_status(&app, &id), "draft");

    // Nothing half-done stands in the way once the register fits the stock.
    let resp = app
        .patch_auth(
            &format!("/api/v1/admin/workers/{}", roster.hardship[0]),
            admin,
            &json!({"hardship_archived": false}),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200, "{}", resp.text().await.unwrap());
    let (status, published) = publish(&app, &id, admin).await;
    assert_eq!(status, 200, "{published}");
    assert_eq!(published["allocated"], 300, "{published}");
    assert_eq!(vouchers(&app, &id), 300);
    assert_eq!(held_by(&app, &id, &roster.hardship[..1]), 0);
}

#[tokio::test]
async fn a_top_up_run_twice_concurrently_issues_one_new_voucher() {
    // No background pass: only the two calls under test allocate.
    let app = spawn_app_with(without_jobs).await;
    let w = app.world().await;
    let admin = w.luqiao_admin.access.as_str();
    let roster = members(&app, &w.luqiao, 50, 10).await;
    let id = draft_allocation(&app, &w, 20).await;
    let (status, published) = publish(&app, &id, admin).await;
    assert_eq!(status, 200, "{published}");
    assert_eq!(published["allocated"], 10, "{published}");

    let newcomer = &roster.others[0];
    let resp = app
        .patch_auth(
            &format!("/api/v1/admin/workers/{newcomer}"),
            admin,
            &json!({"hardship_archived": true}),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200, "{}", resp.text().await.unwrap());

    let ((s1, b1), (s2, b2)) = tokio::join!(allocate(&app, &id, admin), allocate(&app, &id, admin));
    assert_eq!((s1, s2), (200, 200), "{b1} {b2}");
    let issued = b1["allocated"].as_i64().unwrap() + b2["allocated"].as_i64().unwrap();
    assert_eq!(issued, 1, "{b1} {b2}");

    let (status, third) = allocate(&app, &id, admin).await;
    assert_eq!(status, 200, "{third}");
    assert_eq!(third["allocated"], 0, "{third}");

    assert_eq!(vouchers(&app, &id), 11);
    assert_eq!(holders(&app, &id), 11);
    assert_eq!(held_by(&app, &id, std::slice::from_ref(newcomer)), 1);
    assert_eq!(allocation_notices(&app), 11, "one notice per voucher, none twice");
}

#[tokio::test]
async fn a_crash_between_batches_then_a_retry_still_gives_one_voucher_each() {
    // The jobs stay off here, so the crash leaves the allocation visibly half done and
    // the retry below is what finishes it.
    let app = spawn_app_with(without_jobs).await;
    let w = app.world().await;
    let admin = w.luqiao_admin.access.as_str();
    members(&app, &w.luqiao, 2000, 300).await;
    let id = draft_allocation(&app, &w, 300).await;

    let mut binary = Binary::start(
        &app.config,
        &[
            ("ALLOCATION_BATCH_SIZE", "50"),
            ("FAULT_ABORT_AFTER_ALLOCATION_BATCHES", "2"),
            ("JOBS_ENABLED", "false"),
        ],
    )
    .await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let publish_there = client
        .post(format!("{}/api/v1/admin/campaigns/{id}/publish", binary.base))
        .bearer_auth(admin)
        .json(&json!({}))
        .send();
    let outcome = tokio::time::timeout(Duration::from_secs(60), publish_there)
        .await
        .expect("the publish is answered or dropped within a minute");
    if let Ok(resp) = outcome {
        let status = resp.status();
        panic!(
            "the process should have died mid-allocation, yet answered {status}: {}",
            resp.text().await.unwrap_or_default()
        );
    }
    let exit = binary.exited(30).await;
    assert!(!exit.success(), "the crash is an abnormal exit: {exit}");

    let partial = vouchers(&app, &id);
    assert!(0 < partial && partial < 300, "{partial} vouchers after the crash");
    assert_eq!(holders(&app, &id), partial, "nobody holds two");
    let pending = count(
        &app,
        &format!(
            "SELECT COUNT(*) AS n FROM campaigns WHERE id = '{id}' \
             AND status = 'published' AND allocation_pending = TRUE"
        ),
    );
    assert_eq!(pending, 1, "published, its allocation still pending");

    let (status, retried) = allocate(&app, &id, admin).await;
    assert_eq!(status, 200, "{retried}");
    assert_eq!(retried["allocated"], 300 - partial, "{retried}");

    assert_eq!(vouchers(&app, &id), 300);
    assert_eq!(holders(&app, &id), 300);
    assert_eq!(hardship_members_holding(&app, &id, &w.luqiao), 300);
    assert_eq!(
        allocation_notices(&app),
        300,
        "one notice per voucher, none twice"
    );
    let stats = app.stats(&id, admin).await;
    assert_eq!(stats["claimed"], 300, "{stats}");
    assert_eq!(stats["remaining"], 0, "{stats}");
    assert_stock_adds_up(&stats);
    let (status, again) = allocate(&app, &id, admin).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["allocated"], 0, "{again}");
}

#[tokio::test]
async fn the_jobs_finish_an_allocation_a_crash_left_half_done() {
    let app = spawn_app_with(without_jobs).await;
    let w = app.world().await;
    let admin = w.luqiao_admin.access.as_str();
    members(&app, &w.luqiao, 600, 300).await;
    let id = draft_allocation(&app, &w, 300).await;
    let mut binary = Binary::start(
        &app.config,
        &[
            ("ALLOCATION_BATCH_SIZE", "50"),
            ("FAULT_ABORT_AFTER_ALLOCATION_BATCHES", "1"),
            ("JOBS_ENABLED", "false"),
        ],
    )
    .await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let publish_there = client
        .post(format!("{}/api/v1/admin/campaigns/{id}/publish", binary.base))
        .bearer_auth(admin)
        .json(&json!({}))
        .send();
    let outcome = tokio::time::timeout(Duration::from_secs(60), publish_there)
        .await
        .expect("the publish is answered or dropped within a minute");
    assert!(outcome.is_err(), "the process died mid-allocation");
    assert!(!binary.exited(30).await.success());
    let partial = vouchers(&app, &id);
    assert!(0 < partial && partial < 300, "{partial} vouchers after the crash");

    // The crashed pass's last batch is long past, so an instance's jobs take it over.
    app.sql(&format!(
        "UPDATE campaigns SET allocation_heartbeat = '2000-01-01 00:00:00' WHERE id = '{id}'"
    ));
    let mut config = app.config.clone();
    config.jobs.enabled = true;
    common::jobs::fast_jobs(&mut config);
    let _instance = start(config, None).await;
    let done =
        format!("SELECT COUNT(*) AS n FROM campaigns WHERE id = '{id}' AND allocation_pending = FALSE");
    common::jobs::eventually(60, "the jobs finish the allocation", || async {
        (count(&app, &done) == 1).then_some(())
    })
    .await;
    assert_eq!(vouchers(&app, &id), 300);
    assert_eq!(holders(&app, &id), 300);
    assert_eq!(allocation_notices(&app), 300, "one notice per voucher");
}

#[tokio::test]
async fn each_allocated_voucher_reaches_the_partners_its_holder_granted_once() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = w.luqiao_admin.access.as_str();
    let roster = members(&app, &w.luqiao, 40, 10).await;
    let scopes = ["webhooks:manage", "vouchers:read"];
    let p = app.partner(admin, &w.luqiao, "美团配送", &scopes).await;
    let token = app.partner_token(&p, None).await;
    let receiver = common::receiver::Receiver::start();
    let events = json!({"url": receiver.url, "events": ["voucher.allocated"]});
    app.created("/api/v1/partner/webhook-endpoints", &token, events)
        .await;
    // Two of the ten on the register use the platform and let it see their vouchers.
    let granting = &roster.hardship[..2];
    for user in granting {
        let worker = sign_in(&app, user).await;
        let grant = json!({"partner_id": p.id});
        app.created("/api/v1/me/partner-grants", &worker, grant).await;
    }
    let id = draft_allocation(&app, &w, 10).await;
    let (status, published) = publish(&app, &id, admin).await;
    assert_eq!(status, 200, "{published}");
    assert_eq!(published["allocated"], 10, "{published}");

    let delivered = common::jobs::eventually(30, "both events delivered", || async {
        let ok: Vec<_> = receiver
            .deliveries()
            .into_iter()
            .filter(|d| d.answered == 200)
            .collect();
        (ok.len() >= 2).then_some(ok)
    })
    .await;
    common::jobs::settle().await;
    assert_eq!(
        receiver.deliveries().len(),
        2,
        "one event per granting holder, none twice"
    );
    let mut workers: Vec<String> = delivered
        .iter()
        .map(|d| {
            let event = d.payload();
            assert_eq!(event["type"], "voucher.allocated", "{event}");
            assert_eq!(event["data"]["campaign_id"], id.as_str(), "{event}");
            event["data"]["worker_id"].as_str().unwrap().to_owned()
        })
        .collect();
    workers.sort();
    let mut expected = granting.to_vec();
    expected.sort();
    assert_eq!(workers, expected, "each event names its own holder");
}

#[tokio::test]
async fn eligibility_on_an_allocate_campaign_says_it_is_allocated_not_claimed() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = w.luqiao_admin.access.as_str();
    let id = draft_allocation(&app, &w, 5).await;
    let (status, published) = publish(&app, &id, admin).await;
    assert_eq!(status, 200, "{published}");
    assert_eq!(published["allocated"], 0, "{published}");

    let (_, member, _) = app.member(&w.luqiao, &w.luqiao_admin).await;
    let answer = app.eligibility(&id, &member.access).await;
    assert_eq!(answer["eligible"], false, "{answer}");
    let codes = reason_codes(&answer);
    assert!(
        codes.iter().any(|c| c == "CAMPAIGN_NOT_OPEN") && codes.iter().any(|c| c == "NOT_HARDSHIP_ARCHIVED"),
        "{answer}"
    );
    // Published and within its window: what stands in the way is that the union hands
    // it out, not that it has not started.
    let not_open = answer["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "CAMPAIGN_NOT_OPEN")
        .and_then(|r| r["message"].as_str())
        .unwrap()
        .to_owned();
    assert!(has_chinese(&not_open), "{not_open}");
    assert!(
        !not_open.contains("尚未发布") && !not_open.contains("尚未开始"),
        "{not_open}"
    );

    // A worker the rules admit is still not invited to claim.
    let (_, archived, archived_id) = app.member(&w.luqiao, &w.luqiao_admin).await;
    let resp = app
        .patch_auth(
            &format!("/api/v1/admin/workers/{archived_id}"),
            admin,
            &json!({"hardship_archived": true}),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let answer = app.eligibility(&id, &archived.access).await;
    assert_eq!(answer["eligible"], false, "{answer}");
    assert_eq!(reason_codes(&answer), ["CAMPAIGN_NOT_OPEN"], "{answer}");
    assert_problem(app.claim(&id, &archived.access).await, 409, "CAMPAIGN_NOT_OPEN").await;
}

#[tokio::test]
async fn allocate_campaigns_refuse_limits_and_batches() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = w.luqiao_admin.access.as_str();
    let app_ref = &app;
    let create = |extra: Value| {
        let body = campaign_body(&w, 5, extra);
        async move { app_ref.post_auth("/api/v1/admin/campaigns", admin, &body).await }
    };
    let hardship = json!([{"type": "hardship_archived"}]);

    let resp = create(json!({"mode": "allocate", "per_worker_limit": 2, "rules": hardship})).await;
    assert_invalid(resp, "per_worker_limit", "an allocation of two each").await;
    let (earlier, later) = (
        Utc::now() - chrono::Duration::hours(1),
        Utc::now() + chrono::Duration::hours(1),
    );
    let batches = json!([{"at": earlier, "quantity": 2}, {"at": later, "quantity": 3}]);
    let resp = create(json!({"mode": "allocate", "stock_releases": batches, "rules": hardship})).await;
    assert_invalid(resp, "stock_releases", "an allocation in release batches").await;
    let resp = create(json!({"mode": "lottery"})).await;
    assert_invalid(resp, "mode", "an unknown mode").await;
    let resp = create(json!({"fulfilment": "drone"})).await;
    assert_invalid(resp, "fulfilment", "an unknown fulfilment").await;

    // One each, said out loud, is what an allocation is; both fields have defaults.
    let body = campaign_body(
        &w,
        5,
        json!({"mode": "allocate", "per_worker_limit": 1, "rules": hardship}),
    );
    let allocation = app.created("/api/v1/admin/campaigns", admin, body).await;
    assert_eq!(allocation["mode"], "allocate", "{allocation}");
    assert_eq!(allocation["fulfilment"], "pickup", "{allocation}");
    let plain = app
        .created("/api/v1/admin/campaigns", admin, campaign_body(&w, 5, json!({})))
        .await;
    assert_eq!(plain["mode"], "claim", "{plain}");
    assert_eq!(plain["fulfilment"], "pickup", "{plain}");
}

#[tokio::test]
async fn top_ups_reach_the_subtree_only_when_published_and_never_beyond_the_stock() {
    let app = spawn_app_with(without_jobs).await;
    let w = app.world().await;
    let admin = w.luqiao_admin.access.as_str();
    let body = json!({"name": "金清镇快递行业工会", "parent_id": w.luqiao, "region_code": "331004"});
    let branch_union = app.created("/api/v1/admin/unions", admin, body).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let roster = members(&app, &w.luqiao, 30, 5).await;
    let branch = members(&app, &branch_union, 4, 2).await;
    let elsewhere = members(&app, &w.jiaojiang, 5, 5).await;
    let id = draft_allocation(&app, &w, 10).await;

    let (status, early) = allocate(&app, &id, admin).await;
    assert_eq!(status, 409, "{early}");
    assert_eq!(early["code"], "CAMPAIGN_STATE_CONFLICT", "a draft: {early}");

    let (status, published) = publish(&app, &id, admin).await;
    assert_eq!(status, 200, "{published}");
    assert_eq!(
        published["allocated"], 7,
        "路桥's five and its branch's two: {published}"
    );
    assert_eq!(held_by(&app, &id, &branch.hardship), 2);
    assert_eq!(held_by(&app, &id, &elsewhere.hardship), 0);

    // Four more on the register, three units left: refused whole.
    let more = &roster.others[..4];
    app.sql(&format!(
        "UPDATE users SET hardship_archived = TRUE WHERE id IN ({})",
        quoted(more)
    ));
    let (status, refused) = allocate(&app, &id, admin).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["code"], "STOCK_INSUFFICIENT", "{refused}");
    assert_eq!(refused["admitted"], 4, "{refused}");
    assert_eq!(refused["available"], 3, "{refused}");
    assert_eq!(vouchers(&app, &id), 7);

    app.sql(&format!(
        "UPDATE users SET hardship_archived = FALSE WHERE id = '{}'",
        more[0]
    ));
    let (status, topped) = allocate(&app, &id, admin).await;
    assert_eq!(status, 200, "{topped}");
    assert_eq!(topped["allocated"], 3, "{topped}");
    assert_eq!(vouchers(&app, &id), 10);
    assert_eq!(holders(&app, &id), 10);
    assert_eq!(app.stats(&id, admin).await["remaining"], 0);

    let claim_campaign = app.luqiao_campaign(&w, 5).await;
    let (status, wrong_mode) = allocate(&app, &claim_campaign, admin).await;
    assert_eq!(status, 409, "{wrong_mode}");
    assert_eq!(
        wrong_mode["code"], "CAMPAIGN_STATE_CONFLICT",
        "a claim campaign: {wrong_mode}"
    );
}

// ---------------------------------------------------------------------------------------
// Helpers

fn without_jobs(c: &mut Config) {
    c.jobs.enabled = false;
}

/// A draft 送货上门 allocation of 路桥 to its hardship workers, redeemable at its first
/// station; returns its id.
async fn draft_allocation(app: &TestApp, w: &World, stock: i64) -> String {
    let body = campaign_body(
        w,
        stock,
        json!({"mode": "allocate", "fulfilment": "delivery", "rules": [{"type": "hardship_archived"}]}),
    );
    let draft = app
        .created("/api/v1/admin/campaigns", &w.luqiao_admin.access, body)
        .await;
    assert_eq!(draft["status"], "draft", "{draft}");
    assert_eq!(draft["mode"], "allocate", "{draft}");
    assert_eq!(draft["fulfilment"], "delivery", "{draft}");
    draft["id"].as_str().unwrap().to_owned()
}

async fn publish(app: &TestApp, campaign: &str, admin: &str) -> (u16, Value) {
    let path = format!("/api/v1/admin/campaigns/{campaign}/publish");
    status_and_body(app.post_auth(&path, admin, &json!({})).await).await
}

async fn allocate(app: &TestApp, campaign: &str, admin: &str) -> (u16, Value) {
    let path = format!("/api/v1/admin/campaigns/{campaign}/allocate");
    status_and_body(app.post_auth(&path, admin, &json!({})).await).await
}

async fn status_and_body(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: not JSON: {text}"));
    (status, body)
}

/// The wallet's vouchers of one campaign.
fn of_campaign(wallet: &Value, campaign: &str) -> Vec<Value> {
    wallet["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {wallet}"))
        .iter()
        .filter(|v| v["campaign_id"] == campaign)
        .cloned()
        .collect()
}

fn assert_stock_adds_up(stats: &Value) {
    let figure = |f: &str| stats[f].as_i64().unwrap_or_else(|| panic!("no {f} in {stats}"));
    assert_eq!(
        figure("total_stock"),
        figure("remaining") + figure("unreleased") + figure("issued_unredeemed") + figure("redeemed"),
        "{stats}"
    );
}

/// Workers made straight in the database, split by the hardship register.
struct Roster {
    hardship: Vec<String>,
    others: Vec<String>,
}

/// Numbers phones and member numbers across the whole test binary, so no two workers of
/// one database share either.
static NEXT_WORKER: AtomicU64 = AtomicU64::new(0);

/// The shared password hash of `riders()`: nobody signs in with it; sessions are minted.
const HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$3zDUK3bZ9pG2MEqCjmy2KA3x6vI4cTGiTSRaQtHLMmY";

/// `total` workers who are current members of `union`, `hardship` of them on the hardship
/// register (spread through the list), inserted a few hundred rows per statement in one
/// transaction.
async fn members(app: &TestApp, union: &str, total: usize, hardship: usize) -> Roster {
    assert!(hardship <= total);
    let first = NEXT_WORKER.fetch_add(total as u64, Ordering::Relaxed);
    let now = sql_time(Utc::now());
    let since = sql_time(Utc::now() - chrono::Duration::days(365));
    let mut roster = Roster {
        hardship: Vec::new(),
        others: Vec::new(),
    };
    let (mut users, mut memberships) = (Vec::new(), Vec::new());
    for i in 0..total {
        let n = first + i as u64;
        let id = uuid::Uuid::now_v7().hyphenated().to_string();
        // Exactly `hardship` of the residues i·hardship mod total fall below `hardship`.
        let archived = (i * hardship) % total < hardship;
        users.push(format!(
            "('{id}', '137{n:08}', '{HASH}', '骑手', 'worker', 'food_delivery', '331004', {}, '{now}', '{now}')",
            if archived { "TRUE" } else { "FALSE" }
        ));
        memberships.push(format!(
            "('{}', '{id}', '{union}', 'T{n:09}', '{since}', '{since}')",
            uuid::Uuid::now_v7().hyphenated()
        ));
        if archived {
            roster.hardship.push(id);
        } else {
            roster.others.push(id);
        }
    }
    assert_eq!(roster.hardship.len(), hardship);
    let mut statements: Vec<String> = users
        .chunks(250)
        .map(|rows| {
            format!(
                "INSERT INTO users (id, phone, password_hash, name, role, occupation, region_code, \
                 hardship_archived, created_at, updated_at) VALUES {}",
                rows.join(", ")
            )
        })
        .collect();
    statements.extend(memberships.chunks(250).map(|rows| {
        format!(
            "INSERT INTO memberships (id, user_id, union_id, member_no, since, started_at) VALUES {}",
            rows.join(", ")
        )
    }));
    let url = app.config.database_url.clone();
    tokio::task::spawn_blocking(move || {
        let pool = zhijian::db::connect(&url, 1).unwrap();
        let mut conn = pool.get().unwrap();
        zhijian::db::write_tx(&mut conn, |conn| {
            for statement in &statements {
                diesel::sql_query(statement.as_str()).execute(conn)?;
            }
            Ok::<_, diesel::result::Error>(())
        })
        .unwrap();
    })
    .await
    .unwrap();
    roster
}

/// An access token for a worker made by `members`, minted as `riders()` does.
async fn sign_in(app: &TestApp, user: &str) -> String {
    let url = app.config.database_url.clone();
    let user = UserId::parse(user).unwrap();
    tokio::task::spawn_blocking(move || {
        let pool = zhijian::db::connect(&url, 1).unwrap();
        let mut conn = pool.get().unwrap();
        let (session, _refresh) = zhijian::db::write_tx(&mut conn, |conn| {
            sessions::start(conn, &user, zhijian::domain::now(), chrono::Duration::days(30))
        })
        .unwrap();
        JwtKeys::new(TEST_JWT_SECRET.as_bytes())
            .issue(&user, Role::Worker, &session)
            .unwrap()
    })
    .await
    .unwrap()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Word {
    #[diesel(sql_type = Text)]
    word: String,
}

/// The `n` of a query that selects one `COUNT(*) AS n`.
fn count(app: &TestApp, query: &str) -> i64 {
    let pool = zhijian::db::connect(&app.config.database_url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let rows: Vec<Count> = diesel::sql_query(query).load(&mut *conn).unwrap();
    rows[0].n
}

fn vouchers(app: &TestApp, campaign: &str) -> i64 {
    count(
        app,
        &format!("SELECT COUNT(*) AS n FROM vouchers WHERE campaign_id = '{campaign}'"),
    )
}

fn holders(app: &TestApp, campaign: &str) -> i64 {
    count(
        app,
        &format!("SELECT COUNT(DISTINCT user_id) AS n FROM vouchers WHERE campaign_id = '{campaign}'"),
    )
}

/// Distinct holders who are on the hardship register and current members of `union`.
fn hardship_members_holding(app: &TestApp, campaign: &str, union: &str) -> i64 {
    count(
        app,
        &format!(
            "SELECT COUNT(DISTINCT v.user_id) AS n FROM vouchers v \
             JOIN users u ON u.id = v.user_id \
             JOIN memberships m ON m.user_id = v.user_id AND m.ended_at IS NULL \
             WHERE v.campaign_id = '{campaign}' AND u.hardship_archived = TRUE \
             AND m.union_id = '{union}'"
        ),
    )
}

/// Vouchers of the campaign held by any of `users`.
fn held_by(app: &TestApp, campaign: &str, users: &[String]) -> i64 {
    if users.is_empty() {
        return 0;
    }
    count(
        app,
        &format!(
            "SELECT COUNT(*) AS n FROM vouchers WHERE campaign_id = '{campaign}' AND user_id IN ({})",
            quoted(users)
        ),
    )
}

/// Every `voucher_allocated` notice in the database (each test allocates one campaign).
fn allocation_notices(app: &TestApp) -> i64 {
    count(
        app,
        "SELECT COUNT(*) AS n FROM notifications WHERE kind = 'voucher_allocated'",
    )
}

fn campaign_status(app: &TestApp, campaign: &str) -> String {
    let pool = zhijian::db::connect(&app.config.database_url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let rows: Vec<Word> = diesel::sql_query(format!(
        "SELECT status AS word FROM campaigns WHERE id = '{campaign}'"
    ))
    .load(&mut *conn)
    .unwrap();
    rows[0].word.clone()
}

/// `'a', 'b', …` for an SQL `IN` list of ids.
fn quoted(ids: &[String]) -> String {
    ids.iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `zhijian` binary serving the test app's database on a port of its own; killed when
/// dropped if it is still running.
struct Binary {
    child: Option<Child>,
    base: String,
}

impl Binary {
    async fn start(config: &Config, env: &[(&str, &str)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = common::binary::zhijian(config);
        command
            .env("BIND", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut binary = Self {
            child: Some(command.spawn().unwrap()),
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let health = format!("{}/healthz", binary.base);
        for _ in 0..400 {
            if let Some(status) = binary.child.as_mut().unwrap().try_wait().unwrap() {
                binary.child = None;
                panic!("the binary exited before serving: {status}");
            }
            if client
                .get(&health)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return binary;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the binary did not answer /healthz within 20 s");
    }

    /// Waits up to `secs` seconds for the process to end on its own.
    async fn exited(&mut self, secs: u64) -> ExitStatus {
        let child = self.child.as_mut().expect("still running");
        let status = common::jobs::eventually(secs, "the binary exits", || {
            let status = child.try_wait().unwrap();
            async move { status }
        })
        .await;
        self.child = None;
        status
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
