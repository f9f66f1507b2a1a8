//! `POST /admin/unions/{id}/roster-imports`: a union's member list as CSV.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;

use crate::app::roster;
use crate::app::roster_apply::{self, Outcome};
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

/// Why the transaction ends: applied, or rolled back on purpose (a dry run, or errors).
enum Stop {
    RolledBack(Outcome),
    Failed(ApiError),
}

impl From<diesel::result::Error> for Stop {
    fn from(e: diesel::result::Error) -> Self {
        Self::Failed(e.into())
    }
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
    let body = read_body(payload).await?;
    let (union, keys) = (union.into_inner(), state.voucher_keys.clone());
    let outcome = db::run(&state.pool, move |conn| {
        let at = now();
        let (lines, errors) = roster::parse(&body, at);
        let result = db::write_tx(conn, |c| {
            let scope = AdminScope::load(c, &principal).map_err(|e| Stop::Failed(e.into()))?;
            let mut out = roster_apply::import(c, &scope, &keys, &union, &lines, errors, at)
                .map_err(|e| Stop::Failed(e.into()))?;
            out.dry_run = dry_run;
            if dry_run || !out.errors.is_empty() {
                return Err(Stop::RolledBack(out));
            }
            out.applied = true;
            Ok(out)
        });
        match result {
            Ok(out) | Err(Stop::RolledBack(out)) => Ok(out),
            Err(Stop::Failed(e)) => Err(e),
        }
    })
    .await?;
    Ok(HttpResponse::Ok().json(outcome))
}
