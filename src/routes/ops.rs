//! Liveness, readiness and the API document.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::db;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

pub const OPENAPI_YAML: &str = include_str!("../../api-spec/openapi.yaml");

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// 200 only when the database and (where configured) Redis answer.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let database = db::run(&state.pool, |conn| Ok::<_, ApiError>(db::ping(conn)?)).await;
    let locks = state.locks.ping().await;
    if database.is_err() || locks.is_err() {
        let status = |ok: bool| if ok { "ok" } else { "down" };
        return Err(ApiError::new(ErrorCode::Unavailable)
            .retry_after(1)
            .with_extension("database", status(database.is_ok()))
            .with_extension(state.locks.kind(), status(locks.is_ok())));
    }
    Ok(HttpResponse::Ok().json(json!({"status": "ready", "database": "ok", state.locks.kind(): "ok"})))
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
