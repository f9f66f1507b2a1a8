//! Liveness, readiness and the API document.

use actix_web::{web, HttpResponse};
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::db;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

pub const OPENAPI_YAML: &str = include_str!("../../api-spec/openapi.yaml");

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Readiness follows the database alone: 200 while it answers, 503 `UNAVAILABLE` (with
/// `Retry-After`) when it does not. Redis being down is reported (`"status": "degraded"`,
/// `"redis": "down"`) but keeps the instance in the load balancer: redemptions stay exactly
/// once on the database fence and throttles count in-process meanwhile (the fault suite's
/// Redis case shows both), so taking every replica out would turn a degraded service
/// into an outage. README, "Probes".
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let database = db::run(&state.pool, |conn| Ok::<_, ApiError>(db::ping(conn)?)).await;
    let locks = state.locks.ping().await.is_ok();
    let status = |ok: bool| if ok { "ok" } else { "down" };
    if database.is_err() {
        return Err(ApiError::new(ErrorCode::Unavailable)
            .retry_after(1)
            .with_extension("database", "down")
            .with_extension(state.locks.kind(), status(locks)));
    }
    let overall = if locks { "ready" } else { "degraded" };
    Ok(HttpResponse::Ok()
        .json(json!({"status": overall, "database": "ok", state.locks.kind(): status(locks)})))
}

/// `GET /metrics`: Prometheus text (OpenMetrics). With `METRICS_TOKEN` set, only for a
/// scraper presenting it as a bearer token. Pool and outbox figures are read now.
pub async fn metrics(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if let Some(token) = &state.metrics_token {
        let sent = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        // Constant-time, so the answer's timing does not spell the token out.
        let matches = sent.is_some_and(|s| bool::from(s.as_bytes().ct_eq(token.as_bytes())));
        if !matches {
            return Err(ErrorCode::Unauthenticated.into());
        }
    }
    let m = &state.metrics;
    let pool = state.pool.state();
    m.pool_connections.set(i64::from(pool.connections));
    m.pool_idle.set(i64::from(pool.idle_connections));
    // Only with a connection free at once: a scrape never queues behind claims, and a busy
    // or unreachable database still leaves the in-memory figures readable (with the last
    // backlog shown).
    let pool = state.pool.clone();
    let read = web::block(move || {
        pool.try_get()
            .map(|(_turn, mut conn)| crate::outbox::backlog(&mut conn, crate::domain::now()))
    })
    .await;
    if let Ok(Some(Ok((backlog, lag)))) = read {
        m.outbox_backlog.set(backlog);
        m.job_lag_seconds.set(lag);
    }
    Ok(HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(m.render().map_err(ApiError::internal)?))
}

pub async fn openapi_yaml() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/yaml; charset=utf-8")
        .body(OPENAPI_YAML)
}

pub async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.openapi_json.clone())
}
