//! `GET /metrics` (issue 15): Prometheus text with requests by route pattern and status,
//! claims and hand-overs by outcome code, lock outcomes and pool figures; no personal data;
//! behind `METRICS_TOKEN` when it is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use common::*;
use serde_json::{json, Value};

async fn scrape(app: &TestApp, token: Option<&str>) -> (u16, String, String) {
    let mut req = app.client.get(app.url("/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let kind = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, resp.text().await.unwrap())
}

/// The value of the sample whose line starts with `series` (name and labels, exactly).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or_else(|| panic!("no sample {series} in:\n{text}"))
}

#[tokio::test]
async fn metrics_count_routes_outcomes_and_locks_without_personal_data() {
    let app = spawn_app().await;
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 1).await;
    let riders = app.riders(2).await;
    let v: Value = app
        .claim(&campaign, &riders[0].access)
        .await
        .json()
        .await
        .unwrap();
    app.claim(&campaign, &riders[0].access).await;
    app.claim(&campaign, &riders[1].access).await;
    let body = json!({"code": v["code"], "station_id": w.luqiao_station});
    let counter = &w.luqiao_counter.access;
    app.created("/api/v1/counter/redemptions", counter, body.clone())
        .await;
    app.post_auth("/api/v1/counter/redemptions", counter, &body).await;
    app.get_auth("/api/v1/no/such/path/13812345678", counter).await;
    let made_up = reqwest::Method::from_bytes(b"FOO1").unwrap();
    app.client
        .request(made_up, app.url("/healthz"))
        .send()
        .await
        .unwrap();

    let (status, kind, text) = scrape(&app, None).await;
    assert_eq!(status, 200, "{text}");
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    let claims =
        r#"zhijian_http_requests_total{method="POST",route="/api/v1/campaigns/{id}/claims",status="201"}"#;
    assert_eq!(sample(&text, claims), 1.0);
    assert_eq!(sample(&text, r#"zhijian_claims_total{outcome="created"}"#), 1.0);
    assert_eq!(
        sample(&text, r#"zhijian_claims_total{outcome="ALREADY_CLAIMED"}"#),
        1.0
    );
    assert_eq!(sample(&text, r#"zhijian_claims_total{outcome="SOLD_OUT"}"#), 1.0);
    let redeemed = r#"zhijian_redemptions_total{method="counter",outcome="created"}"#;
    assert_eq!(sample(&text, redeemed), 1.0);
    let twice = r#"zhijian_redemptions_total{method="counter",outcome="ALREADY_REDEEMED"}"#;
    assert_eq!(sample(&text, twice), 1.0);
    assert!(sample(&text, r#"zhijian_redemption_locks_total{outcome="acquired"}"#) >= 1.0);
    assert!(
        text.contains("zhijian_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("zhijian_db_pool_wait_seconds_count"), "{text}");
    assert!(sample(&text, "zhijian_db_pool_connections") >= 1.0);
    assert!(sample(&text, "zhijian_outbox_backlog") >= 0.0);
    assert!(sample(&text, "zhijian_job_lag_seconds") >= 0.0);
    // Unknown paths are one label value; ids, phones and codes never appear.
    assert!(text.contains(r#"route="unmatched""#), "{text}");
    assert!(
        text.contains(r#"method="other""#),
        "made-up methods share one label: {text}"
    );
    assert!(!text.contains("FOO1"), "{text}");
    assert!(!text.contains("13812345678"), "no path in a label");
    assert!(!text.contains(&campaign), "no id in a label");
    assert!(!text.contains(v["code"].as_str().unwrap()), "no code");
    assert!(
        text.trim_end().ends_with("# EOF"),
        "OpenMetrics text ends with # EOF"
    );
}

#[tokio::test]
async fn with_a_token_set_only_the_scraper_reads_the_metrics() {
    let app = spawn_app_with(|c| c.metrics_token = Some("scrape-secret-0123456789".into())).await;
    let (status, _, _) = scrape(&app, None).await;
    assert_eq!(status, 401);
    let (status, _, _) = scrape(&app, Some("wrong-secret-0123456789")).await;
    assert_eq!(status, 401);
    let (status, _, text) = scrape(&app, Some("scrape-secret-0123456789")).await;
    assert_eq!(status, 200);
    let lower = app
        .client
        .get(app.url("/metrics"))
        .header("authorization", "bearer scrape-secret-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status().as_u16(), 200, "the scheme is case-insensitive");
    assert!(text.contains("zhijian_http_requests_total"), "{text}");
}
