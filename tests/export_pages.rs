//! CSV exports are streamed by pages (issue 12): an export longer than one page arrives
//! chunked, every row exactly once, in a file a CSV reader parses whole.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use std::collections::HashSet;

use common::*;

/// `n` members of `union`, written straight into the database (the API would take minutes).
fn members_by_sql(app: &TestApp, union: &str, n: usize) -> String {
    let prefix = &random_phone()[..6];
    let mut users = Vec::new();
    let mut memberships = Vec::new();
    for i in 0..n {
        let user = uuid::Uuid::now_v7();
        users.push(format!(
            "('{user}', '{prefix}{i:05}', 'x', '职工{i:05}', 'worker', FALSE, FALSE, \
             '2026-01-01 00:00:00', '2026-01-01 00:00:00', FALSE)"
        ));
        memberships.push(format!(
            "('{}', '{user}', '{union}', 'P{prefix}{i:05}', '2025-06-01 00:00:00', '2025-06-01 00:00:00')",
            uuid::Uuid::now_v7()
        ));
    }
    app.sql(&format!(
        "INSERT INTO users (id, phone, password_hash, name, role, occupation_verified, \
         hardship_archived, created_at, updated_at, password_change_required) VALUES {}",
        users.join(", ")
    ));
    app.sql(&format!(
        "INSERT INTO memberships (id, user_id, union_id, member_no, since, started_at) VALUES {}",
        memberships.join(", ")
    ));
    format!("P{prefix}")
}

#[tokio::test]
async fn a_long_member_export_is_streamed_in_pages_with_every_row_once() {
    let app = spawn_app().await;
    let w = app.world().await;
    let n = 2_345; // more than two pages of 1,000
    let numbered = members_by_sql(&app, &w.luqiao, n);

    let path = format!("/api/v1/admin/unions/{}/members.csv", w.luqiao);
    let resp = app.get_auth(&path, &w.luqiao_admin.access).await;
    assert_eq!(resp.status().as_u16(), 200);
    // Streamed: no length known up front.
    assert_eq!(resp.content_length(), None, "{:?}", resp.headers());
    let body = resp.bytes().await.unwrap();
    let text = body.strip_prefix(b"\xEF\xBB\xBF").expect("a BOM");
    let mut reader = csv::Reader::from_reader(text);
    assert_eq!(reader.headers().unwrap().get(0), Some("会员号"));
    let mut seen = HashSet::new();
    for record in reader.records() {
        let record = record.unwrap();
        assert_eq!(record.len(), 9, "{record:?}");
        let no = record.get(0).unwrap().to_owned();
        if no.starts_with(&numbered) {
            assert_eq!(
                record.get(6),
                Some("2025-06-01 08:00:00"),
                "Beijing time: {record:?}"
            );
            assert!(seen.insert(no), "a row twice: {record:?}");
        }
    }
    assert_eq!(seen.len(), n);
}
