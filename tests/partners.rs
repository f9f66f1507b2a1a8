//! Partner clients and their tokens (issue 11; contract v1.1 "Partners (third-party apps)"):
//! admins make partners for their own district, partners get OAuth 2.0 client-credentials
//! tokens (RFC 6749 §4.4) that open the partner area and nothing else, and disabling a
//! partner or rotating its secret takes effect at once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use common::partners::scope_set;
use common::*;
use serde_json::{json, Value};
use zhijian::routes::ROUTES;

const GRANT: [(&str, &str); 1] = [("grant_type", "client_credentials")];

fn concrete(path: &str) -> String {
    path.replace("{id}", &uuid::Uuid::now_v7().to_string())
}

async fn send(app: &TestApp, method: &str, path: &str, token: &str) -> reqwest::Response {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    app.client
        .request(method, app.url(&concrete(path)))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
}

/// Asserts an RFC 6749 token error: the problem code and the `error` member.
async fn assert_oauth_error(resp: reqwest::Response, status: u16, code: &str, error: &str) -> Value {
    let body = assert_problem(resp, status, code).await;
    assert_eq!(body["error"], error, "{body}");
    body
}

#[tokio::test]
async fn a_partner_gets_a_short_lived_bearer_token_with_http_basic() {
    let app = spawn_app().await;
    let w = app.world().await;
    let p = app
        .partner(
            &w.luqiao_admin.access,
            &w.luqiao,
            "美团配送",
            &["attestations:write", "workers:read"],
        )
        .await;
    let resp = app.token_basic(&p.client_id, &p.secret, &GRANT).await;
    assert_eq!(resp.status().as_u16(), 200);
    // RFC 6749 §5.1: an answer carrying a token is never cached.
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    let expires_in = body["expires_in"].as_i64().unwrap();
    assert!((1..=3600).contains(&expires_in), "short-lived: {expires_in}");
    // No scope asked for: every scope the partner holds.
    assert_eq!(
        scope_set(body["scope"].as_str().unwrap()),
        scope_set("attestations:write workers:read")
    );
    let workers = app
        .get_auth("/api/v1/partner/workers", body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(workers.status().as_u16(), 200);
    let workers: Value = workers.json().await.unwrap();
    assert_eq!(workers["items"], json!([]));
}

#[tokio::test]
async fn form_credentials_work_too_but_not_together_with_basic() {
    let app = spawn_app().await;
    let w = app.world().await;
    let p = app
        .partner(&w.luqiao_admin.access, &w.luqiao, "美团配送", &["workers:read"])
        .await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", p.client_id.as_str()),
        ("client_secret", p.secret.as_str()),
    ];
    let resp = app.token_form(&form).await;
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["scope"], "workers:read");
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(
        app.get_auth("/api/v1/partner/workers", token)
            .await
            .status()
            .as_u16(),
        200
    );

    // RFC 6749 §2.3: a client uses one authentication method per request.
    let both = app.token_basic(&p.client_id, &p.secret, &form).await;
    assert_oauth_error(both, 400, "INVALID_REQUEST", "invalid_request").await;
}

#[tokio::test]
async fn a_wrong_secret_or_an_unknown_client_is_invalid_client() {
    let app = spawn_app().await;
    let w = app.world().await;
    let p = app
        .partner(&w.luqiao_admin.access, &w.luqiao, "美团配送", &["workers:read"])
        .await;

    let resp = app.token_basic(&p.client_id, "zjs_not-the-secret", &GRANT).await;
    // RFC 6749 §5.2: a client that tried Basic is told the scheme in WWW-Authenticate.
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_oauth_error(resp, 401, "INVALID_CLIENT", "invalid_client").await;
    assert!(
        challenge.as_deref().is_some_and(|c| c.starts_with("Basic")),
        "{challenge:?}"
    );

    let resp = app
        .token_form(&[
            ("grant_type", "client_credentials"),
            ("client_id", p.client_id.as_str()),
            ("client_secret", "zjs_not-the-secret"),
        ])
        .await;
    assert_oauth_error(resp, 401, "INVALID_CLIENT", "invalid_client").await;

    // An unknown client gets the same answer, so client ids cannot be probed.
    let resp = app.token_basic("zjc_nobody", &p.secret, &GRANT).await;
    assert_oauth_error(resp, 401, "INVALID_CLIENT", "invalid_client").await;

    // The failures neither locked nor broke the real credentials.
    app.partner_token(&p, None).await;
}

#[tokio::test]
async fn asking_for_a_scope_not_granted_is_invalid_scope() {
    let app = spawn_app().await;
    let w = app.world().await;
    let p = app
        .partner(&w.luqiao_admin.access, &w.luqiao, "美团配送", &["workers:read"])
        .await;
    for scope in ["vouchers:read", "workers:read vouchers:read", "admin"] {
        let resp = app
            .token_basic(
                &p.client_id,
                &p.secret,
                &[("grant_type", "client_credentials"), ("scope", scope)],
            )
            .await;
        assert_oauth_error(resp, 400, "INVALID_REQUEST", "invalid_scope").await;
    }
}

#[tokio::test]
async fn only_the_client_credentials_grant_in_a_form_body_is_served() {
    let app = spawn_app().await;
    let w = app.world().await;
    let p = app
        .partner(&w.luqiao_admin.access, &w.luqiao, "美团配送", &["workers:read"])
        .await;
    let resp = app
        .token_basic(
            &p.client_id,
            &p.secret,
            &[
                ("grant_type", "password"),
                ("username", "13900000000"),
                ("password", "x"),
            ],
        )
        .await;
    assert_oauth_error(resp, 400, "INVALID_REQUEST", "unsupported_grant_type").await;

    // RFC 6749 §4.4.2: the request is a form, not JSON.
    let resp = app
        .client
        .post(app.url("/api/v1/oauth/token"))
        .basic_auth(&p.client_id, Some(&p.secret))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_oauth_error(resp, 400, "INVALID_REQUEST", "invalid_request").await;
}

#[tokio::test]
async fn a_token_narrowed_to_one_scope_cannot_use_the_other() {
    let app = spawn_app().await;
    let w = app.world().await;
    let p = app
        .partner(
            &w.luqiao_admin.access,
            &w.luqiao,
            "美团配送",
            &["attestations:write", "workers:read"],
        )
        .await;
    let resp = app
        .token_basic(
            &p.client_id,
            &p.secret,
            &[("grant_type", "client_credentials"), ("scope", "workers:read")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["scope"], "workers:read");
    let narrow = body["access_token"].as_str().unwrap();

    assert_eq!(
        app.get_auth("/api/v1/partner/workers", narrow)
            .await
            .status()
            .as_u16(),
        200
    );
    let phone = random_phone();
    assert_problem(
        app.attest(narrow, &phone, "food_delivery").await,
        403,
        "FORBIDDEN",
    )
    .await;

    // The partner itself holds the scope: the 403 came from the narrowing.
    let full = app.partner_token(&p, None).await;
    assert_eq!(
        app.attest(&full, &phone, "food_delivery").await.status().as_u16(),
        202
    );
}

#[tokio::test]
async fn a_partner_token_opens_no_route_outside_the_partner_area() {
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
    // Routes that need no token answer the same to anyone; every other one refuses.
    let open = [
        "/healthz",
        "/readyz",
        // Open to the scraper unless METRICS_TOKEN is set (tests/metrics.rs).
        "/metrics",
        "/api-docs/openapi.json",
        "/api-docs/openapi.yaml",
        "/api/v1/oauth/token",
        // The pages are public; what they show comes from the API.
        "/",
        "/app",
        "/counter",
        "/admin",
        "/app/",
        "/counter/",
        "/admin/",
        "/assets/{name}",
    ];
    let routes: Vec<_> = ROUTES
        .iter()
        .filter(|(_, path)| {
            !path.starts_with("/api/v1/partner/")
                && !path.starts_with("/api/v1/auth/")
                && !open.contains(path)
        })
        .collect();
    assert!(routes
        .iter()
        .any(|(method, path)| *method == "GET" && *path == "/api/v1/me"));
    for (method, path) in routes {
        let resp = send(&app, method, path, &token).await;
        assert_eq!(resp.status().as_u16(), 403, "{method} {path}");
        assert_problem(resp, 403, "FORBIDDEN").await;
    }
}

#[tokio::test]
async fn worker_and_staff_tokens_open_no_partner_route() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (_, worker) = app.worker().await;
    let partner_routes: Vec<_> = ROUTES
        .iter()
        .filter(|(_, path)| path.starts_with("/api/v1/partner/"))
        .collect();
    assert!(partner_routes.len() >= 4);
    for token in [
        &worker.access,
        &w.luqiao_admin.access,
        &w.luqiao_counter.access,
        &w.platform.access,
    ] {
        for (method, path) in &partner_routes {
            let resp = send(&app, method, path, token).await;
            assert_eq!(resp.status().as_u16(), 403, "{method} {path}");
            assert_problem(resp, 403, "FORBIDDEN").await;
        }
    }
}

#[tokio::test]
async fn a_disabled_partner_is_shut_out_at_once() {
    let app = spawn_app().await;
    let w = app.world().await;
    let p = app
        .partner(&w.luqiao_admin.access, &w.luqiao, "美团配送", &["workers:read"])
        .await;
    let token = app.partner_token(&p, None).await;
    assert_eq!(
        app.get_auth("/api/v1/partner/workers", &token)
            .await
            .status()
            .as_u16(),
        200
    );
    let (_, worker) = app.worker().await;
    let listed = |body: &Value| {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == p.id.as_str())
    };
    let directory: Value = app
        .get_auth("/api/v1/partners", &worker.access)
        .await
        .json()
        .await
        .unwrap();
    assert!(listed(&directory), "{directory}");

    let resp = app
        .post_auth(
            &format!("/api/v1/admin/partners/{}/disable", p.id),
            &w.luqiao_admin.access,
            &json!({}),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let disabled: Value = resp.json().await.unwrap();
    assert!(disabled["disabled_at"].is_string(), "{disabled}");

    // The token it already holds has not expired, yet stops with the very next call.
    assert_problem(
        app.get_auth("/api/v1/partner/workers", &token).await,
        401,
        "TOKEN_REVOKED",
    )
    .await;
    let resp = app.token_basic(&p.client_id, &p.secret, &GRANT).await;
    assert_oauth_error(resp, 401, "INVALID_CLIENT", "invalid_client").await;
    // Workers can no longer find it or grant it.
    let directory: Value = app
        .get_auth("/api/v1/partners", &worker.access)
        .await
        .json()
        .await
        .unwrap();
    assert!(!listed(&directory), "{directory}");
    assert_problem(
        app.post_auth(
            "/api/v1/me/partner-grants",
            &worker.access,
            &json!({"partner_id": p.id}),
        )
        .await,
        404,
        "NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn a_rotated_secret_replaces_the_old_one() {
    let app = spawn_app().await;
    let w = app.world().await;
    let p = app
        .partner(&w.luqiao_admin.access, &w.luqiao, "美团配送", &["workers:read"])
        .await;
    let issued_before = app.partner_token(&p, None).await;

    let resp = app
        .post_auth(
            &format!("/api/v1/admin/partners/{}/secret", p.id),
            &w.luqiao_admin.access,
            &json!({}),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let new_secret = resp.json::<Value>().await.unwrap()["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_secret, p.secret);

    let old = app.token_basic(&p.client_id, &p.secret, &GRANT).await;
    assert_oauth_error(old, 401, "INVALID_CLIENT", "invalid_client").await;
    let new = app.token_basic(&p.client_id, &new_secret, &GRANT).await;
    assert_eq!(new.status().as_u16(), 200);
    // Rotation is not revocation (that is what disable is for): a token issued before it
    // runs out on its own, minutes later.
    assert_eq!(
        app.get_auth("/api/v1/partner/workers", &issued_before)
            .await
            .status()
            .as_u16(),
        200
    );
}

#[tokio::test]
async fn admins_manage_the_partners_of_their_own_district_only() {
    let app = spawn_app().await;
    let w = app.world().await;
    let body = json!({"name": "美团配送", "union_id": w.luqiao, "scopes": ["workers:read"]});
    assert_problem(
        app.post_auth("/api/v1/admin/partners", &w.jiaojiang_admin.access, &body)
            .await,
        403,
        "FORBIDDEN",
    )
    .await;
    for scopes in [json!([]), json!(["admin:everything"])] {
        let body = json!({"name": "美团配送", "union_id": w.luqiao, "scopes": scopes});
        assert_problem(
            app.post_auth("/api/v1/admin/partners", &w.luqiao_admin.access, &body)
                .await,
            400,
            "INVALID_REQUEST",
        )
        .await;
    }
    let p = app
        .partner(
            &w.luqiao_admin.access,
            &w.luqiao,
            "美团配送",
            &["workers:read", "vouchers:read"],
        )
        .await;
    assert!(
        p.secret.len() >= 32,
        "a secret with room for 256 bits: {}",
        p.secret
    );

    // The secret is shown once: the list never repeats it.
    let resp = app
        .get_auth("/api/v1/admin/partners", &w.luqiao_admin.access)
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let text = resp.text().await.unwrap();
    assert!(!text.contains(&p.secret), "{text}");
    let listed: Value = serde_json::from_str(&text).unwrap();
    let item = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == p.id.as_str())
        .unwrap_or_else(|| panic!("{listed}"));
    assert_eq!(item["client_id"], p.client_id.as_str());
    assert_eq!(item["union_id"], w.luqiao.as_str());
    assert!(item.get("client_secret").is_none(), "{item}");

    // Another district neither sees it nor touches it, as if it did not exist.
    let other: Value = app
        .get_auth("/api/v1/admin/partners", &w.jiaojiang_admin.access)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        !other["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == p.id.as_str()),
        "{other}"
    );
    for action in ["disable", "secret"] {
        let path = format!("/api/v1/admin/partners/{}/{action}", p.id);
        assert_problem(
            app.post_auth(&path, &w.jiaojiang_admin.access, &json!({})).await,
            404,
            "NOT_FOUND",
        )
        .await;
    }
    // Still enabled, still on its first secret.
    app.partner_token(&p, None).await;
}
