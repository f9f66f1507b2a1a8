//! The audit trail (issue 12): state changes land in a hash chain an admin can read within
//! its subtree, and `zhijian audit verify` finds the first entry that was changed, removed
//! or slipped in.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use std::process::Output;

use common::binary::zhijian;
use common::world::World;
use common::*;
use serde_json::{json, Value};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// `zhijian audit verify` against the app's database, off the runtime's thread (the app
/// under test keeps serving meanwhile).
async fn verify(app: &TestApp) -> (Output, String, String) {
    let config = app.config.clone();
    let out =
        tokio::task::spawn_blocking(move || zhijian(&config).args(["audit", "verify"]).output().unwrap())
            .await
            .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

/// Verify must fail naming `seq` as the first bad entry.
async fn assert_broken_at(app: &TestApp, seq: i64) {
    let (out, stdout, stderr) = verify(app).await;
    assert_eq!(out.status.code(), Some(1), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.contains(&format!("seq {seq}:")), "seq {seq}: {stderr}");
}

async fn events(app: &TestApp, token: &str, query: &str) -> Value {
    app.read_ok(&format!("/api/v1/admin/audit-events{query}"), token)
        .await
}

fn items(page: &Value) -> Vec<Value> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{page}"))
        .clone()
}

fn seq(e: &Value) -> i64 {
    e["seq"].as_i64().unwrap_or_else(|| panic!("no seq: {e}"))
}

fn is_hash(v: &Value) -> bool {
    v.as_str().is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn entry<'a>(items: &'a [Value], action: &str, subject: &str) -> &'a Value {
    items
        .iter()
        .find(|e| e["action"] == action && e["subject_id"] == subject)
        .unwrap_or_else(|| panic!("no {action} of {subject} in {items:#?}"))
}

/// Newest first, well-formed, and each entry links to its predecessor when both are listed.
fn assert_linked(items: &[Value]) {
    for e in items {
        assert!(seq(e) >= 1, "{e}");
        assert!(is_hash(&e["hash"]) && is_hash(&e["prev_hash"]), "{e}");
        if seq(e) == 1 {
            assert_eq!(e["prev_hash"], GENESIS, "{e}");
        }
    }
    for pair in items.windows(2) {
        let (newer, older) = (&pair[0], &pair[1]);
        assert!(seq(newer) > seq(older), "newest first: {newer} / {older}");
        if seq(newer) == seq(older) + 1 {
            assert_eq!(newer["prev_hash"], older["hash"], "{newer} / {older}");
        }
    }
}

async fn id_of(app: &TestApp, tokens: &Tokens) -> String {
    app.read_ok("/api/v1/me", &tokens.access).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

struct Story {
    w: World,
    worker_id: String,
    voucher_id: String,
    redemption_id: String,
}

/// A member of 路桥 claims a voucher, the counter redeems it, the admin opens the
/// member's profile: with the world's own set-up, well over six entries.
async fn story(app: &TestApp) -> Story {
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let (_, worker, worker_id) = app.member(&w.luqiao, &w.luqiao_admin).await;
    let claimed = app.claim(&campaign, &worker.access).await;
    let status = claimed.status().as_u16();
    let voucher: Value = claimed.json().await.unwrap();
    assert_eq!(status, 201, "{voucher}");
    let body = json!({"code": voucher["code"], "station_id": w.luqiao_station});
    let redeemed = app
        .created("/api/v1/counter/redemptions", &w.luqiao_counter.access, body)
        .await;
    let profile = app
        .read_ok(
            &format!("/api/v1/admin/workers/{worker_id}"),
            &w.luqiao_admin.access,
        )
        .await;
    assert_eq!(profile["id"], worker_id.as_str(), "{profile}");
    Story {
        w,
        worker_id,
        voucher_id: voucher["id"].as_str().unwrap().to_owned(),
        redemption_id: redeemed["id"].as_str().unwrap().to_owned(),
    }
}

/// The whole chain as the platform admin sees it (it is short: one page), all sealed by
/// this read; returns the head's seq and hash.
async fn sealed_head(app: &TestApp, w: &World) -> (i64, String) {
    let page = events(app, &w.platform.access, "?limit=100").await;
    let all = items(&page);
    assert!(
        page["next_cursor"].is_null(),
        "the test chain fits a page: {page}"
    );
    assert_linked(&all);
    let seqs: Vec<i64> = all.iter().map(seq).collect();
    let head = seqs[0];
    assert_eq!(seqs, (1..=head).rev().collect::<Vec<_>>(), "contiguous from 1");
    (head, all[0]["hash"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn state_changes_land_in_the_trail_of_their_district() {
    let app = spawn_app().await;
    let s = story(&app).await;
    let w = &s.w;
    let admin = &w.luqiao_admin.access;
    let (admin_id, counter_id) = (
        id_of(&app, &w.luqiao_admin).await,
        id_of(&app, &w.luqiao_counter).await,
    );

    // Written a moment ago, listed at once: the list seals what waits.
    let all = items(&events(&app, admin, "?limit=100").await);
    assert_linked(&all);
    let claimed = entry(&all, "voucher.claimed", &s.voucher_id);
    assert_eq!(claimed["actor_id"], s.worker_id.as_str());
    assert_eq!(claimed["subject_type"], "voucher");
    assert_eq!(claimed["union_id"], w.luqiao.as_str());
    let redeemed = entry(&all, "voucher.redeemed", &s.voucher_id);
    assert_eq!(redeemed["actor_id"], counter_id.as_str());
    assert_eq!(redeemed["subject_type"], "voucher");
    assert_eq!(redeemed["data"]["station_id"], w.luqiao_station.as_str());
    assert_eq!(redeemed["data"]["redemption_id"], s.redemption_id.as_str());
    assert!(seq(claimed) < seq(redeemed), "{claimed} / {redeemed}");
    let viewed = entry(&all, "pii.viewed", &s.worker_id);
    assert_eq!(viewed["actor_id"], admin_id.as_str());
    assert_eq!(viewed["subject_type"], "user");
    for e in [claimed, redeemed, viewed] {
        assert!(e["at"].as_str().is_some_and(|t| !t.is_empty()), "{e}");
    }

    // Filters.
    let pii = items(&events(&app, admin, "?action=pii.viewed").await);
    assert_eq!(pii.len(), 1, "{pii:#?}");
    assert_eq!(pii[0]["subject_id"], s.worker_id.as_str());
    let of_voucher = items(&events(&app, admin, &format!("?subject_id={}", s.voucher_id)).await);
    let actions: Vec<&str> = of_voucher.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["voucher.redeemed", "voucher.claimed"],
        "{of_voucher:#?}"
    );
    let of_worker = items(&events(&app, admin, &format!("?subject_id={}", s.worker_id)).await);
    assert!(of_worker.iter().all(|e| e["subject_id"] == s.worker_id.as_str()));
    entry(&of_worker, "pii.viewed", &s.worker_id);

    // Paging one at a time: the cursor is the last seq as a string.
    let query = format!("?subject_id={}&limit=1", s.voucher_id);
    let first = events(&app, admin, &query).await;
    assert_eq!(items(&first).len(), 1);
    assert_eq!(first["items"][0]["action"], "voucher.redeemed");
    assert_eq!(first["next_cursor"], seq(redeemed).to_string().as_str());
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = events(&app, admin, &format!("{query}&cursor={cursor}")).await;
    assert_eq!(items(&second).len(), 1);
    assert_eq!(second["items"][0]["action"], "voucher.claimed");
    assert_eq!(second["items"][0]["seq"], seq(claimed));
    assert!(second["next_cursor"].is_null(), "{second}");

    // Another district's admin sees none of it.
    let other = &w.jiaojiang_admin.access;
    let theirs = items(&events(&app, other, "?limit=100").await);
    assert!(
        theirs.iter().all(|e| e["subject_id"] != s.voucher_id.as_str()
            && e["subject_id"] != s.worker_id.as_str()
            && e["union_id"] != w.luqiao.as_str()),
        "{theirs:#?}"
    );
    for query in [
        format!("?subject_id={}", s.voucher_id),
        format!("?subject_id={}", s.worker_id),
        "?action=pii.viewed".to_owned(),
    ] {
        assert_eq!(
            items(&events(&app, other, &query).await),
            Vec::<Value>::new(),
            "{query}"
        );
    }
}

#[tokio::test]
async fn an_untouched_chain_verifies_intact() {
    let app = spawn_app().await;
    let s = story(&app).await;
    let (head, hash) = sealed_head(&app, &s.w).await;
    assert!(head >= 6, "head seq {head}");
    let (out, stdout, stderr) = verify(&app).await;
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("intact"), "{stdout}");
    assert!(
        stdout.contains(&format!("head seq {head} hash {hash}")),
        "{stdout}"
    );
}

#[tokio::test]
async fn verify_names_an_edited_entry() {
    let app = spawn_app().await;
    let s = story(&app).await;
    let (head, _) = sealed_head(&app, &s.w).await;
    assert!(head >= 6, "head seq {head}");
    app.sql(r#"UPDATE audit_events SET detail = '{"forged":true}' WHERE seq = 3"#);
    assert_broken_at(&app, 3).await;
}

#[tokio::test]
async fn verify_names_a_removed_entry() {
    let app = spawn_app().await;
    let s = story(&app).await;
    let (head, _) = sealed_head(&app, &s.w).await;
    assert!(head >= 6, "head seq {head}");
    app.sql("DELETE FROM audit_events WHERE seq = 2");
    assert_broken_at(&app, 2).await;
}

#[tokio::test]
async fn verify_names_an_entry_slipped_in_after_the_head() {
    let app = spawn_app().await;
    let s = story(&app).await;
    // Read right before the insert, with no change in between.
    let (head, _) = sealed_head(&app, &s.w).await;
    let forged = "ab".repeat(32);
    app.sql(&format!(
        "INSERT INTO audit_events (id, actor_id, action, subject_id, detail, created_at, \
         subject_type, union_id, seq, prev_hash, hash) VALUES ('{}', NULL, 'voucher.claimed', \
         'x', '{{}}', '2026-01-01 00:00:00', 'voucher', NULL, {}, '{forged}', '{forged}')",
        uuid::Uuid::new_v4(),
        head + 1
    ));
    assert_broken_at(&app, head + 1).await;
}

#[tokio::test]
async fn verify_names_the_removed_newest_entry() {
    let app = spawn_app().await;
    let s = story(&app).await;
    let (head, _) = sealed_head(&app, &s.w).await;
    assert!(head >= 6, "head seq {head}");
    app.sql(&format!("DELETE FROM audit_events WHERE seq = {head}"));
    assert_broken_at(&app, head).await;
}

#[tokio::test]
async fn an_entry_inserted_with_plain_sql_is_caught_before_and_after_it_is_chained() {
    let app = spawn_app().await;
    let s = story(&app).await;
    let (head, _) = sealed_head(&app, &s.w).await;
    // What someone with a SQL prompt would write: no seq, no signature.
    app.sql(&format!(
        "INSERT INTO audit_events (id, actor_id, action, subject_id, detail, created_at, \
         subject_type) VALUES ('{}', NULL, 'voucher.redeemed', 'x', '{{}}', \
         '2026-01-01 00:00:00', 'voucher')",
        uuid::Uuid::now_v7()
    ));
    // Chained or not yet (the job may seal it meanwhile), it does not pass.
    let (out, stdout, stderr) = verify(&app).await;
    assert_eq!(out.status.code(), Some(1), "stdout: {stdout}\nstderr: {stderr}");
    // Once chained, it has a place: the entry after the old head.
    sealed_head(&app, &s.w).await;
    assert_broken_at(&app, head + 1).await;
}
