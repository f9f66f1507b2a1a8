//! Organisation rules tightened (issue 9, faults 10, 11 and 13): on-site joins need the
//! worker's consent (a one-use join code), district admins cannot grow provinces or leave
//! their region, and the role gate decides on the matched route, however the path is spelled.
//! (Fault 15, the counter's answers, is in counter_answers.rs.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const JOINS: &str = "/api/v1/counter/membership-applications";

async fn me(app: &TestApp, token: &str) -> Value {
    app.get_auth("/api/v1/me", token).await.json().await.unwrap()
}

/// POSTs and asserts the problem it answers with.
async fn refused(app: &TestApp, path: &str, token: &str, body: Value, status: u16, code: &str) -> Value {
    assert_problem(app.post_auth(path, token, &body).await, status, code).await
}

/// The join code a worker's app shows at the counter: 8 digits, valid about 10 minutes.
async fn join_code(app: &TestApp, worker: &str) -> String {
    let body = app.created("/api/v1/me/join-codes", worker, json!({})).await;
    let code = body["code"].as_str().unwrap().to_owned();
    assert!(
        code.len() == 8 && code.bytes().all(|b| b.is_ascii_digit()),
        "{body}"
    );
    let expires = chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap()).unwrap();
    let left = expires.signed_duration_since(chrono::Utc::now()).num_seconds();
    assert!((500..=660).contains(&left), "valid ten minutes: {body}");
    code
}

#[tokio::test]
async fn an_onsite_join_needs_a_join_code_that_works_once() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (_, worker) = app.worker().await;
    let code = join_code(&app, &worker.access).await;
    let body = json!({"join_code": code, "union_id": w.luqiao});
    let filed = app.created(JOINS, &w.luqiao_counter.access, body.clone()).await;
    assert_eq!(filed["status"], "pending");
    assert_eq!(me(&app, &worker.access).await["membership"]["status"], "pending");

    // Used and unknown codes get one answer: nothing tells them apart.
    let counter = &w.luqiao_counter.access;
    let used = refused(&app, JOINS, counter, body, 404, "NOT_FOUND").await;
    let other = format!("{:08}", (code.parse::<u32>().unwrap() + 1) % 100_000_000);
    let unknown = json!({"join_code": other, "union_id": w.luqiao});
    let unknown = refused(&app, JOINS, counter, unknown, 404, "NOT_FOUND").await;
    assert_eq!(
        (&used["title"], &used["detail"]),
        (&unknown["title"], &unknown["detail"])
    );

    // A phone number alone enrols nobody, and says nothing about who is registered.
    let (registered, _) = app.worker().await;
    let mut answers = Vec::new();
    for phone in [registered, random_phone()] {
        let body = json!({"phone": phone, "union_id": w.luqiao});
        answers.push(refused(&app, JOINS, counter, body, 400, "INVALID_REQUEST").await["detail"].clone());
    }
    assert_eq!(answers[0], answers[1]);
}

#[tokio::test]
async fn a_district_admin_grows_only_districts_and_grassroots_inside_its_region() {
    let app = spawn_app().await;
    let w = app.world().await;
    let unions = "/api/v1/admin/unions";
    let city_admin = app.staff(&w.platform.access, "union_admin", &w.city, &[]).await;
    for kind in ["national", "province", "city"] {
        for (admin, parent, region) in [
            (&w.luqiao_admin, &w.luqiao, "331004"),
            (&city_admin, &w.city, "331000"),
        ] {
            let body =
                json!({"name": "上海市总工会", "parent_id": parent, "region_code": region, "kind": kind});
            refused(&app, unions, &admin.access, body, 403, "FORBIDDEN").await;
        }
    }
    // Shanghai under 路桥, or the neighbouring 椒江: outside the parent's region.
    for region in ["310000", "331002"] {
        let body =
            json!({"name": "越界工会", "parent_id": w.luqiao, "region_code": region, "kind": "grassroots"});
        let problem = refused(&app, unions, &w.luqiao_admin.access, body, 400, "INVALID_REQUEST").await;
        assert_eq!(problem["errors"][0]["field"], "region_code", "{problem}");
    }
    for kind in ["district", "grassroots"] {
        let body = json!({"name": format!("金清镇{kind}工会"), "parent_id": w.luqiao, "region_code": "331004", "kind": kind});
        assert_eq!(
            app.created(unions, &w.luqiao_admin.access, body).await["kind"],
            kind
        );
    }
    // Whatever a platform admin plants, no check depends on `kind`: the region still binds.
    let odd =
        json!({"name": "奇怪的工会", "parent_id": w.luqiao, "region_code": "331004", "kind": "national"});
    let odd = app.post_auth(unions, &w.platform.access, &odd).await;
    if odd.status() == StatusCode::CREATED {
        let odd: Value = odd.json().await.unwrap();
        let body = json!({"name": "徐汇区总工会", "parent_id": odd["id"], "region_code": "310104", "kind": "district"});
        let status = app
            .post_auth(unions, &w.luqiao_admin.access, &body)
            .await
            .status()
            .as_u16();
        assert!(
            matches!(status, 400 | 403),
            "a Shanghai union under 路桥: {status}"
        );
    }
}

#[tokio::test]
async fn a_platform_admin_creates_any_level_within_the_parent_region() {
    let app = spawn_app().await;
    let platform = app.platform_admin().await;
    let unions = "/api/v1/admin/unions";
    let national = json!({"name": "中华全国总工会", "region_code": "100000", "kind": "national"});
    assert_eq!(
        app.created(unions, &platform.access, national).await["kind"],
        "national"
    );
    let province = json!({"name": "浙江省总工会", "region_code": "330000", "kind": "province"});
    let province = app.created(unions, &platform.access, province).await;
    let city =
        json!({"name": "台州市总工会", "parent_id": province["id"], "region_code": "331000", "kind": "city"});
    let city = app.created(unions, &platform.access, city).await;
    assert_eq!(city["kind"], "city");
    let shanghai =
        json!({"name": "徐汇区总工会", "parent_id": city["id"], "region_code": "310104", "kind": "district"});
    let problem = refused(&app, unions, &platform.access, shanghai, 400, "INVALID_REQUEST").await;
    assert_eq!(problem["errors"][0]["field"], "region_code");
}

/// Other spellings of one path: each segment with its first letter percent-encoded
/// (upper- and lower-case hex), and a doubled slash before each segment.
fn spellings(path: &str) -> Vec<String> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let with = |i: usize, replacement: String| {
        let mut parts: Vec<String> = segments.iter().map(|s| (*s).to_owned()).collect();
        parts[i] = replacement;
        format!("/{}", parts.join("/"))
    };
    let mut out = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        let (first, rest) = segment.split_at(1);
        let byte = first.as_bytes()[0];
        out.push(with(i, format!("%{byte:02X}{rest}")));
        out.push(with(i, format!("%{byte:02x}{rest}")));
        out.push(with(i, format!("/{segment}")));
    }
    out
}

#[tokio::test]
async fn every_spelling_of_a_path_gets_the_answer_of_its_plain_form() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (_, worker) = app.worker().await;
    let lookup = json!({"code": "0000-0000-0000-0000"});
    let (counter, admin, worker) = (&w.luqiao_counter.access, &w.luqiao_admin.access, &worker.access);
    let (get, post) = (Method::GET, Method::POST);
    let cases = [
        (
            "counter on a worker route",
            counter,
            &get,
            "/api/v1/me/vouchers",
            403,
        ),
        (
            "worker on an admin route",
            worker,
            &get,
            "/api/v1/admin/campaigns",
            403,
        ),
        (
            "counter on an admin route",
            counter,
            &get,
            "/api/v1/admin/campaigns",
            403,
        ),
        (
            "worker on a counter route",
            worker,
            &post,
            "/api/v1/counter/lookups",
            403,
        ),
        // The same spellings still reach the right handler for the right role.
        ("worker on its wallet", worker, &get, "/api/v1/me/vouchers", 200),
        (
            "admin on its campaigns",
            admin,
            &get,
            "/api/v1/admin/campaigns",
            200,
        ),
    ];
    for (who, token, method, plain, expected) in cases {
        let send = |path: String| {
            let request = app
                .client
                .request(method.clone(), app.url(&path))
                .bearer_auth(token);
            let request = if *method == Method::POST {
                request.json(&lookup)
            } else {
                request
            };
            request.send()
        };
        let first = send(plain.to_owned()).await.unwrap();
        assert_eq!(first.status().as_u16(), expected, "{who}: {plain}");
        let first: Value = first.json().await.unwrap();
        for path in spellings(plain) {
            let resp = send(path.clone()).await.unwrap();
            assert_eq!(resp.status().as_u16(), expected, "{who}: {path}");
            let body: Value = resp.json().await.unwrap();
            let same = if expected == 200 {
                body == first
            } else {
                body["code"] == first["code"]
            };
            assert!(same, "{who}: {path}: {body} vs {first}");
        }
    }
}
