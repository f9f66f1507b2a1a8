//! Free text (issue 9 fault 5, contract v1.1 "Free text"): every field a person types is
//! trimmed and NFC-normalised, and refused when it shows nothing or hides control,
//! zero-width or bidirectional-override characters, which blank or reverse a holder's name
//! on a counter screen.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use common::*;
use reqwest::header::HeaderValue;
use reqwest::{Method, Response};
use serde_json::{json, Value};

/// Blank, zero-width, a right-to-left override, a NUL, a byte-order mark.
const HOSTILE: [&str; 5] = ["\u{200b}", "\u{202e}明小王", "  ", "a\u{0}b", "\u{feff}"];

/// A 400 `INVALID_REQUEST` whose first error names `field`.
async fn assert_refused(resp: Response, field: &str, context: &str) {
    let status = resp.status().as_u16();
    let problem: Value = resp.json().await.unwrap();
    assert_eq!(status, 400, "{context}: {problem}");
    assert_eq!(problem["code"], "INVALID_REQUEST", "{context}: {problem}");
    assert_eq!(problem["errors"][0]["field"], field, "{context}: {problem}");
}

fn campaign_body(w: &common::world::World, title: &str, item_name: &str) -> Value {
    json!({
        "union_id": w.luqiao, "title": title, "item_name": item_name, "total_stock": 5,
        "claim_starts_at": "2030-12-01T01:00:00Z", "claim_ends_at": "2030-12-31T15:59:59Z",
        "redeem_until": "2031-01-28T15:59:59Z", "station_ids": [w.luqiao_station], "rules": [],
    })
}

#[tokio::test]
async fn invisible_or_control_text_is_refused_in_every_field_people_type() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let riders = app.riders(2).await;
    let to_revoke: Value = app
        .claim(&campaign, &riders[0].access)
        .await
        .json()
        .await
        .unwrap();
    let redeemed: Value = app
        .claim(&campaign, &riders[1].access)
        .await
        .json()
        .await
        .unwrap();
    let redemption = app
        .created(
            "/api/v1/counter/redemptions",
            &w.luqiao_counter.access,
            json!({"code": redeemed["code"], "station_id": w.luqiao_station}),
        )
        .await;
    let (_, worker) = app.worker().await;
    let application = app
        .created(
            "/api/v1/me/membership-applications",
            &worker.access,
            json!({"union_id": w.luqiao}),
        )
        .await;
    let id = |v: &Value| v["id"].as_str().unwrap().to_owned();
    let reject = format!(
        "/api/v1/admin/membership-applications/{}/reject",
        id(&application)
    );
    let revoke = format!("/api/v1/admin/vouchers/{}/revoke", id(&to_revoke));
    let reverse = format!("/api/v1/admin/redemptions/{}/reverse", id(&redemption));
    let (me, admin) = (Some(worker.access.as_str()), Some(w.luqiao_admin.access.as_str()));
    let campaign_fields = campaign_body(&w, "暖心礼包", "冬季暖心包");
    let staff = json!({"phone": "", "password": PASSWORD, "role": "counter", "union_id": w.luqiao, "station_ids": [w.luqiao_station]});

    // (path, token, the rest of a valid body, the field that gets the text)
    let targets = [
        (
            "/api/v1/auth/register",
            None,
            json!({"phone": "", "password": PASSWORD}),
            "name",
        ),
        ("/api/v1/me", me, json!({}), "name"),
        ("/api/v1/me", me, json!({}), "employer"),
        (
            "/api/v1/admin/unions",
            admin,
            json!({"parent_id": w.luqiao, "region_code": "331004"}),
            "name",
        ),
        (
            "/api/v1/admin/stations",
            admin,
            json!({"union_id": w.luqiao}),
            "name",
        ),
        (
            "/api/v1/admin/stations",
            admin,
            json!({"union_id": w.luqiao, "name": "新驿站"}),
            "address",
        ),
        ("/api/v1/admin/staff", admin, staff, "name"),
        ("/api/v1/admin/campaigns", admin, campaign_fields.clone(), "title"),
        (
            "/api/v1/admin/campaigns",
            admin,
            campaign_fields.clone(),
            "item_name",
        ),
        ("/api/v1/admin/campaigns", admin, campaign_fields, "description"),
        (reject.as_str(), admin, json!({}), "reason"),
        (revoke.as_str(), admin, json!({}), "reason"),
        (reverse.as_str(), admin, json!({}), "reason"),
    ];
    for (path, token, rest, field) in &targets {
        let method = if *path == "/api/v1/me" {
            Method::PATCH
        } else {
            Method::POST
        };
        for text in HOSTILE {
            let mut body = rest.clone();
            body[*field] = json!(text);
            if body.get("phone").is_some() {
                body["phone"] = json!(random_phone());
            }
            let mut request = app.client.request(method.clone(), app.url(path)).json(&body);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let resp = request.send().await.unwrap();
            assert_refused(resp, field, &format!("{path} {field} = {text:?}")).await;
        }
    }

    // Nothing was touched by those refusals: real reasons still go through, trimmed.
    let rejected = app
        .post_auth(
            &reject,
            &w.luqiao_admin.access,
            &json!({"reason": "  请补充工作证明 "}),
        )
        .await;
    assert_eq!(rejected.status().as_u16(), 200);
    assert_eq!(
        rejected.json::<Value>().await.unwrap()["reason"],
        "请补充工作证明"
    );
    for path in [&revoke, &reverse] {
        let resp = app
            .post_auth(path, &w.luqiao_admin.access, &json!({"reason": "冒领"}))
            .await;
        assert_eq!(resp.status().as_u16(), 200, "{path}");
    }
}

#[tokio::test]
async fn typed_text_is_stored_trimmed_and_composed() {
    let app = spawn_app().await;
    let w = app.world().await;
    let phone = random_phone();
    let body = json!({"phone": phone, "password": PASSWORD, "name": "  王小明 ", "region_code": "331004"});
    let resp = app.post("/api/v1/auth/register", &body).await;
    assert_eq!(resp.status().as_u16(), 201);
    assert_eq!(resp.json::<Value>().await.unwrap()["name"], "王小明");

    // "e" followed by a combining acute accent is kept as the one character "é".
    let tokens = app.login_ok(&phone).await;
    let edit = json!({"name": "Jose\u{301}", "employer": " 顺丰速运\u{3000}"});
    let me: Value = app
        .patch_auth("/api/v1/me", &tokens.access, &edit)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["name"], "Jos\u{e9}");
    assert_eq!(me["employer"], "顺丰速运");

    let body = campaign_body(&w, " 暖心礼包\u{3000}", "Cafe\u{301} 礼包");
    let created = app
        .created("/api/v1/admin/campaigns", &w.luqiao_admin.access, body)
        .await;
    assert_eq!(created["title"], "暖心礼包");
    assert_eq!(created["item_name"], "Caf\u{e9} 礼包");
}

#[tokio::test]
async fn a_terminal_name_may_be_chinese_but_not_invisible() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let rider = app.riders(1).await.remove(0);
    let voucher: Value = app.claim(&campaign, &rider.access).await.json().await.unwrap();
    let body = json!({"code": voucher["code"], "station_id": w.luqiao_station});
    let redeem = |terminal: &str| {
        app.client
            .post(app.url("/api/v1/counter/redemptions"))
            .bearer_auth(&w.luqiao_counter.access)
            .header(
                "X-Terminal-Id",
                HeaderValue::from_bytes(terminal.as_bytes()).unwrap(),
            )
            .json(&body)
            .send()
    };
    // Header values cannot carry NUL; U+0085 is a C1 control that can.
    for terminal in ["\u{200b}", "\u{202e}前台1号", "\u{feff}", "前台\u{85}1号"] {
        let resp = redeem(terminal).await.unwrap();
        assert_refused(resp, "X-Terminal-Id", &format!("X-Terminal-Id {terminal:?}")).await;
    }
    let resp = redeem("前台1号").await.unwrap();
    let status = resp.status().as_u16();
    let redemption: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "{redemption}");
    assert_eq!(redemption["terminal_id"], "前台1号");
}
