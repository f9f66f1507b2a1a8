//! Function-level and object-level authorization across the API.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use common::*;
use serde_json::json;
use zhijian::routes::ROUTES;

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

#[tokio::test]
async fn a_worker_reaches_no_admin_or_counter_route() {
    let app = spawn_app().await;
    let (_, worker) = app.worker().await;
    let staff_routes: Vec<_> = ROUTES
        .iter()
        .filter(|(_, p)| p.starts_with("/api/v1/admin/") || p.starts_with("/api/v1/counter/"))
        .collect();
    assert!(staff_routes.len() >= 10);
    for (method, path) in staff_routes {
        let resp = send(&app, method, path, &worker.access).await;
        assert_eq!(resp.status().as_u16(), 403, "{method} {path}");
        assert_problem(resp, 403, "FORBIDDEN").await;
    }
}

#[tokio::test]
async fn staff_have_no_worker_routes_and_counters_no_admin_routes() {
    let app = spawn_app().await;
    let w = app.world().await;
    for (method, path) in ROUTES.iter().filter(|(_, p)| p.starts_with("/api/v1/admin/")) {
        assert_problem(
            send(&app, method, path, &w.luqiao_counter.access).await,
            403,
            "FORBIDDEN",
        )
        .await;
    }
    // Everyone changes their own password; every other /me/ route is a worker's.
    let workers_only = |p: &&str| p.starts_with("/api/v1/me/") && *p != "/api/v1/me/password";
    for (method, path) in ROUTES.iter().filter(|(_, p)| workers_only(p)) {
        assert_problem(
            send(&app, method, path, &w.luqiao_admin.access).await,
            403,
            "FORBIDDEN",
        )
        .await;
    }
}

#[tokio::test]
async fn signed_out_callers_are_unauthenticated_everywhere_but_the_open_routes() {
    let app = spawn_app().await;
    let open = [
        "/healthz",
        "/readyz",
        // Open to the scraper unless METRICS_TOKEN is set (tests/metrics.rs).
        "/metrics",
        "/api-docs/openapi.json",
        "/api-docs/openapi.yaml",
        // Partners authenticate with client credentials there, not a bearer token.
        "/api/v1/oauth/token",
        // The pages themselves are public; what they show comes from the API.
        "/",
        "/app",
        "/counter",
        "/admin",
        "/app/",
        "/counter/",
        "/admin/",
        "/assets/{name}",
    ];
    for (method, path) in ROUTES
        .iter()
        .filter(|(_, p)| !open.contains(p) && !p.starts_with("/api/v1/auth/"))
    {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let resp = app
            .client
            .request(method, app.url(&concrete(path)))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_problem(resp, 401, "UNAUTHENTICATED").await;
    }
}

#[tokio::test]
async fn a_district_admin_cannot_see_or_touch_another_district() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (_, worker) = app.worker().await;
    let applied = app
        .created(
            "/api/v1/me/membership-applications",
            &worker.access,
            json!({"union_id": w.luqiao}),
        )
        .await;
    let id = applied["id"].as_str().unwrap();

    let listed: serde_json::Value = app
        .get_auth("/api/v1/admin/membership-applications", &w.jiaojiang_admin.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 0);
    let approve = format!("/api/v1/admin/membership-applications/{id}/approve");
    assert_problem(
        app.post_auth(&approve, &w.jiaojiang_admin.access, &json!({}))
            .await,
        404,
        "NOT_FOUND",
    )
    .await;
    let reject = format!("/api/v1/admin/membership-applications/{id}/reject");
    assert_problem(
        app.post_auth(&reject, &w.jiaojiang_admin.access, &json!({"reason": "x"}))
            .await,
        404,
        "NOT_FOUND",
    )
    .await;

    let (_, _, member_id) = app.member(&w.luqiao, &w.luqiao_admin).await;
    let patch = format!("/api/v1/admin/workers/{member_id}");
    assert_problem(
        app.patch_auth(
            &patch,
            &w.jiaojiang_admin.access,
            &json!({"hardship_archived": true}),
        )
        .await,
        404,
        "NOT_FOUND",
    )
    .await;
    let workers: serde_json::Value = app
        .get_auth("/api/v1/admin/workers", &w.jiaojiang_admin.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(workers["items"].as_array().unwrap().len(), 0);

    // Nor create things under it.
    let station = json!({"union_id": w.luqiao, "name": "越界驿站"});
    assert_problem(
        app.post_auth("/api/v1/admin/stations", &w.jiaojiang_admin.access, &station)
            .await,
        403,
        "FORBIDDEN",
    )
    .await;
    let union = json!({"name": "越界工会", "parent_id": w.luqiao, "region_code": "331004"});
    assert_problem(
        app.post_auth("/api/v1/admin/unions", &w.jiaojiang_admin.access, &union)
            .await,
        403,
        "FORBIDDEN",
    )
    .await;
    let staff = json!({"phone": random_phone(), "password": PASSWORD, "name": "越界", "role": "union_admin", "union_id": w.luqiao});
    assert_problem(
        app.post_auth("/api/v1/admin/staff", &w.jiaojiang_admin.access, &staff)
            .await,
        403,
        "FORBIDDEN",
    )
    .await;
    // The city union's admin covers both districts.
    let city_admin = app.staff(&w.platform.access, "union_admin", &w.city, &[]).await;
    let ok = app
        .patch_auth(&patch, &city_admin.access, &json!({"hardship_archived": true}))
        .await;
    assert_eq!(ok.status().as_u16(), 200);
}

#[tokio::test]
async fn only_admins_of_the_subtree_set_the_staff_only_flags() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (_, worker, worker_id) = app.member(&w.luqiao, &w.luqiao_admin).await;
    let patch = format!("/api/v1/admin/workers/{worker_id}");
    let view: serde_json::Value = app
        .patch_auth(
            &patch,
            &w.luqiao_admin.access,
            &json!({"hardship_archived": true, "occupation_verified": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["hardship_archived"], true);
    assert!(view["phone_masked"].as_str().unwrap().contains("****"));
    assert!(view.get("phone").is_none());
    let me: serde_json::Value = app
        .get_auth("/api/v1/me", &worker.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["hardship_archived"], true);
    assert_eq!(me["occupation_verified"], true);

    // The worker changing occupation loses the verification.
    let me: serde_json::Value = app
        .patch_auth("/api/v1/me", &worker.access, &json!({"occupation": "courier"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["occupation_verified"], false);
    assert_eq!(me["hardship_archived"], true);

    let mass = app
        .patch_auth(&patch, &w.luqiao_admin.access, &json!({"role": "platform_admin"}))
        .await;
    assert_problem(mass, 400, "INVALID_REQUEST").await;
}

#[tokio::test]
async fn a_counter_is_created_only_for_stations_of_its_union() {
    let app = spawn_app().await;
    let w = app.world().await;
    let body = json!({"phone": random_phone(), "password": PASSWORD, "name": "柜员", "role": "counter", "union_id": w.luqiao, "station_ids": [w.jiaojiang_station]});
    assert_problem(
        app.post_auth("/api/v1/admin/staff", &w.luqiao_admin.access, &body)
            .await,
        400,
        "INVALID_REQUEST",
    )
    .await;
    let no_station = json!({"phone": random_phone(), "password": PASSWORD, "name": "柜员", "role": "counter", "union_id": w.luqiao});
    assert_problem(
        app.post_auth("/api/v1/admin/staff", &w.luqiao_admin.access, &no_station)
            .await,
        400,
        "INVALID_REQUEST",
    )
    .await;
    let platform = json!({"phone": random_phone(), "password": PASSWORD, "name": "x", "role": "platform_admin", "union_id": w.luqiao});
    assert_problem(
        app.post_auth("/api/v1/admin/staff", &w.luqiao_admin.access, &platform)
            .await,
        400,
        "INVALID_REQUEST",
    )
    .await;
}
