#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;

const HEADER: &str = "phone,name,occupation,region_code,member_since";
const OCCUPATIONS: [&str; 3] = ["courier", "food_delivery", "ride_hailing"];
/// 1-based indexes of the data lines that are wrong; their file line is index + 1.
const BAD: [usize; 3] = [100, 500, 900];
/// Data lines whose phones are registered workers before the import.
const REGISTERED: [usize; 5] = [1, 2, 3, 250, 999];
/// A data line whose phone registers only after the import.
const LATE: usize = 600;

async fn me(app: &TestApp, token: &str) -> Value {
    app.get_auth("/api/v1/me", token).await.json().await.unwrap()
}

/// Four digits of our own, so this run's phones (137PPPPxxxx) are not another run's.
fn run_prefix() -> String {
    random_phone()[3..7].to_owned()
}

fn phone(prefix: &str, i: usize) -> String {
    format!("137{prefix}{i:04}")
}

fn good_line(prefix: &str, i: usize) -> String {
    let since = if i % 4 == 0 { "2020/3/1" } else { "2020-03-01" };
    format!(
        "{},职工{i:04},{},331004,{since}",
        phone(prefix, i),
        OCCUPATIONS[i % 3]
    )
}

/// The 1,000 data lines, with the three bad ones or without them (997 lines).
fn roster(prefix: &str, with_bad: bool) -> Vec<String> {
    (1..=1000)
        .filter_map(|i| match (i, with_bad) {
            (100, true) => Some(format!("1234,职工{i:04},courier,331004,2020-03-01")),
            (500, true) => Some(format!(
                "{},职工{i:04},courier,331004,2020-13-45",
                phone(prefix, i)
            )),
            (900, true) => Some(format!(
                "{},职工{i:04},astronaut,331004,2020-03-01",
                phone(prefix, i)
            )),
            (100 | 500 | 900, false) => None,
            _ => Some(good_line(prefix, i)),
        })
        .collect()
}

/// As Excel saves "CSV UTF-8": a BOM, CRLF after every line.
fn excel(lines: &[String]) -> Vec<u8> {
    let mut text = String::from("\u{feff}");
    for line in std::iter::once(HEADER).chain(lines.iter().map(String::as_str)) {
        text.push_str(line);
        text.push_str("\r\n");
    }
    text.into_bytes()
}

async fn import_as(
    app: &TestApp,
    token: &str,
    union: &str,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/admin/unions/{union}/roster-imports{query}")))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request")
}

async fn import(app: &TestApp, token: &str, union: &str, query: &str, body: Vec<u8>) -> Value {
    let resp = import_as(app, token, union, query, "text/csv", body).await;
    let status = resp.status();
    let body: Value = resp.json().await.expect("json");
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn error_lines(report: &Value) -> Vec<u64> {
    let errors = report["errors"].as_array().expect("errors is a list");
    for e in errors {
        let message = e["message"].as_str().expect("message");
        assert!(
            message.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "message in Chinese: {e}"
        );
    }
    let mut lines: Vec<u64> = errors.iter().map(|e| e["line"].as_u64().unwrap()).collect();
    lines.sort_unstable();
    lines
}

#[tokio::test]
async fn a_thousand_line_excel_roster_is_all_or_nothing_and_idempotent() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = &w.luqiao_admin.access;
    let prefix = run_prefix();
    for i in REGISTERED {
        app.register(&phone(&prefix, i), "王小明").await;
    }
    let registered = app.login_ok(&phone(&prefix, REGISTERED[0])).await;
    assert_eq!(me(&app, &registered.access).await["membership"]["status"], "none");

    let with_bad = excel(&roster(&prefix, true));
    let bad_file_lines: Vec<u64> = BAD.iter().map(|i| *i as u64 + 1).collect();

    // Dry run: the report of what would happen, and nothing happens.
    let dry = import(&app, admin, &w.luqiao, "?dry_run=true", with_bad.clone()).await;
    assert_eq!(dry["dry_run"], true, "{dry}");
    assert_eq!(dry["applied"], false, "{dry}");
    assert_eq!(error_lines(&dry), bad_file_lines, "{dry}");
    let added = dry["members_added"].as_u64().unwrap();
    let waiting = dry["waiting_for_registration"].as_u64().unwrap();
    assert_eq!(added + waiting, 997, "{dry}");
    assert_eq!(added, 5, "{dry}");
    assert_eq!(dry["unchanged"], 0, "{dry}");
    assert_eq!(me(&app, &registered.access).await["membership"]["status"], "none");

    // For real, but with the bad lines still in: refused as a whole.
    let refused = import(&app, admin, &w.luqiao, "", with_bad).await;
    assert_eq!(refused["dry_run"], false, "{refused}");
    assert_eq!(refused["applied"], false, "{refused}");
    assert_eq!(error_lines(&refused), bad_file_lines, "{refused}");
    assert_eq!(me(&app, &registered.access).await["membership"]["status"], "none");

    // The fixed file applies.
    let fixed = excel(&roster(&prefix, false));
    let applied = import(&app, admin, &w.luqiao, "", fixed.clone()).await;
    assert_eq!(applied["applied"], true, "{applied}");
    assert_eq!(applied["dry_run"], false, "{applied}");
    assert_eq!(applied["members_added"], 5, "{applied}");
    assert_eq!(applied["waiting_for_registration"], 992, "{applied}");
    assert_eq!(applied["unchanged"], 0, "{applied}");
    assert_eq!(applied["errors"].as_array().unwrap().len(), 0, "{applied}");

    let membership = me(&app, &registered.access).await["membership"].clone();
    assert_eq!(membership["status"], "member", "{membership}");
    assert_eq!(membership["union_id"], w.luqiao.as_str(), "{membership}");
    assert!(
        membership["member_no"].as_str().is_some_and(|n| !n.is_empty()),
        "{membership}"
    );

    // A listed phone that registers now is a member at once.
    let late_phone = phone(&prefix, LATE);
    app.register(&late_phone, "王小明").await;
    let late = app.login_ok(&late_phone).await;
    let membership = me(&app, &late.access).await["membership"].clone();
    assert_eq!(membership["status"], "member", "{membership}");
    assert_eq!(membership["union_id"], w.luqiao.as_str(), "{membership}");
    assert!(
        membership["member_no"].as_str().is_some_and(|n| !n.is_empty()),
        "{membership}"
    );

    // The same file again changes nothing.
    let again = import(&app, admin, &w.luqiao, "", fixed).await;
    assert_eq!(again["applied"], true, "{again}");
    assert_eq!(again["members_added"], 0, "{again}");
    assert_eq!(again["waiting_for_registration"], 0, "{again}");
    assert_eq!(again["unchanged"], 997, "{again}");
    assert_eq!(again["errors"].as_array().unwrap().len(), 0, "{again}");
}

#[tokio::test]
async fn a_plain_file_without_bom_and_with_lf_works() {
    let app = spawn_app().await;
    let w = app.world().await;
    let prefix = run_prefix();
    app.register(&phone(&prefix, 1), "王小明").await;
    let text = format!(
        "{HEADER}\n{}\n{}\n{},职工0003,,,\n",
        good_line(&prefix, 1),
        good_line(&prefix, 2),
        phone(&prefix, 3)
    );
    let report = import(&app, &w.luqiao_admin.access, &w.luqiao, "", text.into_bytes()).await;
    assert_eq!(report["applied"], true, "{report}");
    assert_eq!(report["members_added"], 1, "{report}");
    assert_eq!(report["waiting_for_registration"], 2, "{report}");
    assert_eq!(report["errors"].as_array().unwrap().len(), 0, "{report}");
    let worker = app.login_ok(&phone(&prefix, 1)).await;
    assert_eq!(me(&app, &worker.access).await["membership"]["status"], "member");
}

#[tokio::test]
async fn wrong_type_other_district_and_members_of_another_union_are_refused() {
    let app = spawn_app().await;
    let w = app.world().await;
    let prefix = run_prefix();
    let file = excel(&[good_line(&prefix, 1), good_line(&prefix, 2)]);

    let json_type = import_as(
        &app,
        &w.luqiao_admin.access,
        &w.luqiao,
        "",
        "application/json",
        file.clone(),
    )
    .await;
    assert_problem(json_type, 415, "UNSUPPORTED_MEDIA_TYPE").await;

    let other_district = import_as(&app, &w.jiaojiang_admin.access, &w.luqiao, "", "text/csv", file).await;
    assert_problem(other_district, 403, "FORBIDDEN").await;

    // A member of 椒江 listed in 路桥's roster: an error on its line, nothing applied.
    let (taken, member, _) = app.member(&w.jiaojiang, &w.jiaojiang_admin).await;
    let registered = phone(&prefix, 1);
    app.register(&registered, "王小明").await;
    let lines = vec![
        good_line(&prefix, 1),
        format!("{taken},职工0002,courier,331004,2020-03-01"),
        good_line(&prefix, 3),
    ];
    let report = import(&app, &w.luqiao_admin.access, &w.luqiao, "", excel(&lines)).await;
    assert_eq!(report["applied"], false, "{report}");
    assert_eq!(error_lines(&report), vec![3u64], "{report}");
    let membership = me(&app, &member.access).await["membership"].clone();
    assert_eq!(membership["union_id"], w.jiaojiang.as_str(), "{membership}");
    let worker = app.login_ok(&registered).await;
    assert_eq!(me(&app, &worker.access).await["membership"]["status"], "none");
}
