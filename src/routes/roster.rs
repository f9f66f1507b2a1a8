//! `POST /admin/unions/{id}/roster-imports`: a union's member list as CSV.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;

use crate::app::roster;
use crate::app::roster_apply;
use crate::auth::scope::AdminScope;
use crate::auth::Principal;
use crate::db;
use crate::domain::ids::UnionId;
use crate::domain::now;
use crate::error::{ApiError, ErrorCode};
use crate::http::json::Query;
use crate::state::AppState;

/// The largest roster file: about 100,000 lines of the five columns.
pub const MAX_BYTES: usize = 8 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    #[serde(default)]
    dry_run: bool,
}

fn is_csv(req: &HttpRequest) -> bool {
    let ct = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    matches!(essence.as_str(), "text/csv" | "application/csv" | "text/plain")
}

async fn read_body(mut payload: web::Payload) -> Result<web::BytesMut, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::new(ErrorCode::InvalidRequest).with_detail("名册文件没有传完整，请重试")
        })?;
        if body.len() + chunk.len() > MAX_BYTES {
            return Err(ApiError::new(ErrorCode::PayloadTooLarge)
                .with_detail("名册文件最大 8 MB（约 10 万行），请分成几个文件"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Dry run first (`?dry_run=true`); a real run applies the whole file or, when any line
/// is wrong, nothing.
pub async fn import(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    union: web::Path<UnionId>,
    query: Query<ImportQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    if !is_csv(&req) {
        return Err(ApiError::new(ErrorCode::UnsupportedMediaType)
            .with_title("名册须为 CSV 文件")
            .with_detail("请以 Content-Type: text/csv 上传（Excel 另存为“CSV UTF-8”）"));
    }
    let dry_run = query.into_inner().dry_run;
    let (union, keys) = (union.into_inner(), state.voucher_keys.clone());
    // The scope first: nobody outside it makes the server read and parse 8 MB.
    let (p, u) = (principal.clone(), union.clone());
    db::run(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &p)?;
        Ok::<_, ApiError>(scope.union(conn, &u).map(|_| ())?)
    })
    .await?;
    let body = read_body(payload).await?;
    let outcome = db::run(&state.pool, move |conn| {
        let at = now();
        let (lines, errors) = roster::parse(&body, at);
        let scope = AdminScope::load(conn, &principal)?;
        let run = roster_apply::Run {
            union: &union,
            lines: &lines,
            errors,
            dry_run,
        };
        Ok::<_, ApiError>(roster_apply::run(conn, &scope, &keys, run, at)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(outcome))
}
