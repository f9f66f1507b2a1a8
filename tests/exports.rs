//! CSV exports (issue 12): UTF-8 with a BOM for Excel, Chinese headers, holders masked,
//! times in Beijing civil time, formula-like cells defused, and only within the subtree.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use std::collections::HashMap;

use chrono::FixedOffset;
use common::jobs::utc;
use common::*;
use serde_json::{json, Value};

const VOUCHER_HEADER: [&str; 11] = [
    "券ID",
    "活动",
    "物品",
    "持有人",
    "手机号",
    "会员号",
    "状态",
    "领取时间",
    "有效期至",
    "核销时间",
    "核销驿站",
];
const REDEMPTION_HEADER: [&str; 11] = [
    "核销ID",
    "券ID",
    "活动",
    "物品",
    "持有人",
    "手机号",
    "驿站",
    "核销人",
    "核销时间",
    "冲正时间",
    "冲正原因",
];
const MEMBER_HEADER: [&str; 9] = [
    "会员号",
    "姓名",
    "手机号",
    "工会",
    "职业",
    "地区",
    "入会时间",
    "困难职工",
    "职业已核验",
];

type Row = HashMap<String, String>;

/// A parsed export: its header, its rows by column name, and the whole text.
struct Table {
    header: Vec<String>,
    rows: Vec<Row>,
    text: String,
}

impl Table {
    /// The one row whose `column` is `value`.
    fn row(&self, column: &str, value: &str) -> &Row {
        let mut rows = self.rows.iter().filter(|r| r[column] == value);
        let row = rows
            .next()
            .unwrap_or_else(|| panic!("no row with {column} = {value}:\n{}", self.text));
        assert!(rows.next().is_none(), "two rows with {column} = {value}");
        row
    }
}

/// GETs an export: 200, `text/csv; charset=utf-8`, the BOM, then CSV with a header row.
async fn export(app: &TestApp, path: &str, token: &str) -> Table {
    let resp = app.get_auth(path, token).await;
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(status, 200, "GET {path}: {}", String::from_utf8_lossy(&bytes));
    assert!(content_type.starts_with("text/csv"), "{path}: {content_type}");
    assert!(
        content_type.to_ascii_lowercase().contains("charset=utf-8"),
        "{path}: {content_type}"
    );
    assert!(
        bytes.starts_with(&[0xEF, 0xBB, 0xBF]),
        "{path}: no BOM: {:?}",
        &bytes[..bytes.len().min(8)]
    );
    let body = &bytes[3..];
    let text = String::from_utf8(body.to_vec()).expect("UTF-8");
    let mut reader = csv::Reader::from_reader(body);
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows: Vec<Row> = reader
        .records()
        .map(|record| {
            let record = record.unwrap_or_else(|e| panic!("{path}: {e}\n{text}"));
            header
                .iter()
                .cloned()
                .zip(record.iter().map(str::to_owned))
                .collect::<Row>()
        })
        .collect();
    Table { header, rows, text }
}

/// An RFC 3339 time of an answer as the exports write it: Beijing time to the second.
fn beijing(v: &Value) -> String {
    let offset = FixedOffset::east_opt(8 * 3600).unwrap();
    utc(v)
        .with_timezone(&offset)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// `^1\d{2}\*{4}\d{4}$`, and not the full number.
fn assert_phone_masked(cell: &str, phone: &str) {
    let b = cell.as_bytes();
    let shape = b.len() == 11
        && b[0] == b'1'
        && b[1..3].iter().all(u8::is_ascii_digit)
        && &b[3..7] == b"****"
        && b[7..].iter().all(u8::is_ascii_digit);
    assert!(shape, "masked phone: {cell}");
    assert_ne!(cell, phone);
    assert_eq!(cell, format!("{}****{}", &phone[..3], &phone[7..]));
}

fn assert_name_masked(cell: &str, full: &str) {
    assert!(cell.ends_with('*') && cell != full, "masked name: {cell}");
    assert!(cell.starts_with(full.chars().next().unwrap()), "{cell}");
}

/// What masking leaves of a name: the first character, then one `*` for each other.
fn mask(name: &str) -> String {
    let mut chars = name.chars();
    let first = chars.next().unwrap();
    std::iter::once(first).chain(chars.map(|_| '*')).collect()
}

async fn join(app: &TestApp, worker: &Tokens, union: &str, admin: &Tokens) -> String {
    let body = json!({"union_id": union});
    let applied = app
        .created("/api/v1/me/membership-applications", &worker.access, body)
        .await;
    let path = format!(
        "/api/v1/admin/membership-applications/{}/approve",
        applied["id"].as_str().unwrap()
    );
    let approved = app.post_auth(&path, &admin.access, &json!({})).await;
    assert_eq!(approved.status().as_u16(), 200);
    let me = app.me(&worker.access).await;
    me["membership"]["member_no"].as_str().unwrap().to_owned()
}

async fn claimed(app: &TestApp, campaign: &str, worker: &Tokens) -> Value {
    assert_eq!(app.claim(campaign, &worker.access).await.status().as_u16(), 201);
    app.wallet(&worker.access).await["items"][0].clone()
}

#[tokio::test]
async fn voucher_and_redemption_exports_mask_holders_and_write_beijing_time() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = &w.luqiao_admin.access;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let mut holders = Vec::new();
    for _ in 0..2 {
        let (phone, worker, _) = app.member(&w.luqiao, &w.luqiao_admin).await;
        let voucher = claimed(&app, &campaign, &worker).await;
        let no = app.me(&worker.access).await["membership"]["member_no"]
            .as_str()
            .unwrap()
            .to_owned();
        holders.push((phone, no, voucher));
    }
    let redeem = json!({"code": holders[0].2["code"], "station_id": w.luqiao_station});
    let redemption = app
        .created("/api/v1/counter/redemptions", &w.luqiao_counter.access, redeem)
        .await;

    let vouchers = format!("/api/v1/admin/campaigns/{campaign}/vouchers.csv");
    let table = export(&app, &vouchers, admin).await;
    assert_eq!(table.header, VOUCHER_HEADER);
    assert_eq!(table.rows.len(), 2, "{}", table.text);
    for (i, (phone, no, voucher)) in holders.iter().enumerate() {
        assert!(
            !table.text.contains(phone.as_str()),
            "no full phone: {}",
            table.text
        );
        let row = table.row("券ID", voucher["id"].as_str().unwrap());
        assert_eq!(row["活动"], "暖心礼包");
        assert_eq!(row["物品"], "夏季清凉包");
        assert_name_masked(&row["持有人"], "王小明");
        assert_phone_masked(&row["手机号"], phone);
        assert_eq!(row["会员号"], no.as_str());
        assert_eq!(row["领取时间"], beijing(&voucher["issued_at"]), "{row:?}");
        assert_eq!(row["有效期至"], beijing(&voucher["expires_at"]), "{row:?}");
        if i == 0 {
            assert_eq!(row["状态"], "已核销", "{row:?}");
            assert_eq!(row["核销驿站"], "路桥驿站", "{row:?}");
            assert_eq!(row["核销时间"], beijing(&redemption["redeemed_at"]), "{row:?}");
        } else {
            assert_eq!(row["状态"], "待核销", "{row:?}");
            assert_eq!(row["核销驿站"], "", "{row:?}");
            assert_eq!(row["核销时间"], "", "{row:?}");
        }
    }

    let redemptions = format!("/api/v1/admin/campaigns/{campaign}/redemptions.csv");
    let table = export(&app, &redemptions, admin).await;
    assert_eq!(table.header, REDEMPTION_HEADER);
    assert_eq!(table.rows.len(), 1, "{}", table.text);
    let row = &table.rows[0];
    let (phone, _, voucher) = &holders[0];
    assert_eq!(row["核销ID"], redemption["id"].as_str().unwrap());
    assert_eq!(row["券ID"], voucher["id"].as_str().unwrap());
    assert_eq!(row["驿站"], "路桥驿站", "{row:?}");
    assert_eq!(row["核销时间"], beijing(&redemption["redeemed_at"]), "{row:?}");
    assert_eq!(row["冲正时间"], "", "{row:?}");
    assert_name_masked(&row["持有人"], "王小明");
    assert_phone_masked(&row["手机号"], phone);

    // Another district's office: the campaign does not exist for it.
    for path in [&vouchers, &redemptions] {
        let elsewhere = app.get_auth(path, &w.jiaojiang_admin.access).await;
        assert_problem(elsewhere, 404, "NOT_FOUND").await;
    }
}

#[tokio::test]
async fn the_member_export_lists_the_union_masked_and_defuses_formulas() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin = &w.luqiao_admin.access;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let (phone, worker, _) = app.member(&w.luqiao, &w.luqiao_admin).await;
    let me = app.me(&worker.access).await;
    let no = me["membership"]["member_no"].as_str().unwrap().to_owned();

    // A name a spreadsheet would run: the first of these the registration accepts.
    let mut formula = None;
    for name in ["=cmd|' /C calc'!A0", "+SUM(1)", "@SUM(1)"] {
        let phone = random_phone();
        let body = json!({
            "phone": phone, "password": PASSWORD, "name": name,
            "occupation": "food_delivery", "region_code": "331004"
        });
        if app.post("/api/v1/auth/register", &body).await.status().as_u16() == 201 {
            formula = Some((phone, name));
            break;
        }
    }
    let (formula_phone, formula_name) = formula.expect("a formula-like name registers");
    let formula_worker = app.login_ok(&formula_phone).await;
    let formula_no = join(&app, &formula_worker, &w.luqiao, &w.luqiao_admin).await;
    let formula_voucher = claimed(&app, &campaign, &formula_worker).await;
    let guarded = format!("'{}", mask(formula_name));

    // A member elsewhere is not in 路桥's list.
    let (_, elsewhere, _) = app.member(&w.jiaojiang, &w.jiaojiang_admin).await;
    let elsewhere_no = app.me(&elsewhere.access).await["membership"]["member_no"]
        .as_str()
        .unwrap()
        .to_owned();

    let members = format!("/api/v1/admin/unions/{}/members.csv", w.luqiao);
    let table = export(&app, &members, admin).await;
    assert_eq!(table.header, MEMBER_HEADER);
    assert_eq!(table.rows.len(), 2, "{}", table.text);
    assert!(!table.text.contains(&elsewhere_no), "{}", table.text);
    assert!(!table.text.contains(&phone) && !table.text.contains(&formula_phone));

    let row = table.row("会员号", &no);
    assert_name_masked(&row["姓名"], "王小明");
    assert_phone_masked(&row["手机号"], &phone);
    assert_eq!(row["工会"], "路桥区总工会");
    assert_eq!(row["困难职工"], "否", "{row:?}");
    assert_eq!(row["职业已核验"], "否", "{row:?}");
    let since = beijing(&me["membership"]["since"]);
    assert!(row["入会时间"].starts_with(&since[..10]), "{row:?} vs {since}");

    let row = table.row("会员号", &formula_no);
    assert!(row["姓名"].starts_with('\''), "formula guard: {row:?}");
    assert_eq!(row["姓名"], guarded, "{row:?}");
    assert_phone_masked(&row["手机号"], &formula_phone);
    assert_eq!(row["工会"], "路桥区总工会");

    // The same guard on the holder of the voucher export.
    let vouchers = format!("/api/v1/admin/campaigns/{campaign}/vouchers.csv");
    let table = export(&app, &vouchers, admin).await;
    let row = table.row("券ID", formula_voucher["id"].as_str().unwrap());
    assert_eq!(row["持有人"], guarded, "{row:?}");
    assert_eq!(row["会员号"], formula_no.as_str());

    // Another district's office may not export 路桥's members.
    let refused = app.get_auth(&members, &w.jiaojiang_admin.access).await;
    assert_problem(refused, 403, "FORBIDDEN").await;
}
