//! The pages (issue 13) as HTTP sees them: served by the binary under a strict CSP, small,
//! and the three API additions they read — the voucher's QR, the counter's day, the
//! stats over time. The pages themselves are driven in Chromium by browser/run.mjs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use common::*;
use serde_json::{json, Value};

async fn fetch(app: &TestApp, path: &str) -> reqwest::Response {
    app.client.get(app.url(path)).send().await.unwrap()
}

#[tokio::test]
async fn the_pages_are_served_same_origin_in_chinese_under_a_strict_policy() {
    let app = spawn_app().await;
    for (page, assets) in [
        ("/", vec![]),
        ("/app/", vec!["api.js", "app.js", "style.css", "app.css"]),
        (
            "/counter/",
            vec!["api.js", "counter.js", "style.css", "counter.css"],
        ),
        (
            "/admin/",
            vec![
                "api.js",
                "admin.js",
                "admin-campaigns.js",
                "style.css",
                "admin.css",
            ],
        ),
    ] {
        let resp = fetch(&app, page).await;
        assert_eq!(resp.status().as_u16(), 200, "{page}");
        let headers = resp.headers().clone();
        assert!(
            headers["content-type"].to_str().unwrap().starts_with("text/html"),
            "{page}"
        );
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe"),
            "{csp}"
        );
        let html = resp.text().await.unwrap();
        assert!(html.contains("lang=\"zh-CN\""), "{page}");
        let mut weight = html.len();
        for asset in assets {
            let resp = fetch(&app, &format!("/assets/{asset}")).await;
            assert_eq!(resp.status().as_u16(), 200, "{asset}");
            weight += resp.bytes().await.unwrap().len();
        }
        assert!(weight < 200 * 1024, "{page} weighs {weight} bytes");
    }
    assert_problem(fetch(&app, "/assets/secrets.txt").await, 404, "NOT_FOUND").await;
    let typed = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = typed.get(app.url("/counter")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 308);
    assert_eq!(resp.headers()["location"], "/counter/");
    assert_problem(
        fetch(&app, "/assets/..%2Fapp%2Findex.html").await,
        404,
        "NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn a_voucher_qr_is_an_svg_for_its_owner_only() {
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
    let path = format!("/api/v1/me/vouchers/{}/qr.svg", voucher["id"].as_str().unwrap());
    let resp = app.get_auth(&path, &riders[0].access).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-type"], "image/svg+xml");
    let svg = resp.text().await.unwrap();
    assert!(svg.contains("<svg") && svg.contains("</svg>"), "{svg}");
    assert_problem(app.get_auth(&path, &riders[1].access).await, 404, "NOT_FOUND").await;
    assert_problem(
        app.get_auth(&path, &w.luqiao_admin.access).await,
        403,
        "FORBIDDEN",
    )
    .await;
}

#[tokio::test]
async fn the_counter_sees_its_day_and_the_admin_sees_the_hours() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let rider = app.riders(1).await.remove(0);
    let voucher: Value = app.claim(&campaign, &rider.access).await.json().await.unwrap();
    let counter = &w.luqiao_counter.access;
    let body = json!({"code": voucher["code"], "station_id": w.luqiao_station});
    let redeemed = app.post_auth("/api/v1/counter/redemptions", counter, &body).await;
    assert_eq!(redeemed.status().as_u16(), 201);

    let day = app
        .read_ok(
            &format!("/api/v1/counter/redemptions?station_id={}", w.luqiao_station),
            counter,
        )
        .await;
    let items = day["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{day}");
    assert_eq!(items[0]["voucher_id"], voucher["id"]);
    assert!(items[0]["station_name"].as_str().is_some_and(|n| !n.is_empty()));
    assert!(items[0]["holder_name_masked"].as_str().unwrap().ends_with('*'));
    let elsewhere = format!("/api/v1/counter/redemptions?station_id={}", w.jiaojiang_station);
    assert_problem(
        app.get_auth(&elsewhere, counter).await,
        403,
        "STATION_NOT_ALLOWED",
    )
    .await;

    let stats = app.stats(&campaign, &w.luqiao_admin.access).await;
    let hours = stats["timeline"].as_array().unwrap();
    let sum = |k: &str| hours.iter().map(|h| h[k].as_i64().unwrap()).sum::<i64>();
    assert_eq!((sum("claimed"), sum("redeemed")), (1, 1), "{stats}");
    assert!(hours[0]["hour"].as_str().unwrap().ends_with(":00:00Z"), "{stats}");
}
