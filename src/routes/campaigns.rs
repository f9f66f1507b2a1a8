//! The worker's side of campaigns: browse, check eligibility, claim.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::campaign_views as cv;
use super::wallet::voucher_view;
use super::{idempotent, pagination};
use crate::auth::scope::AdminScope;
use crate::auth::Principal;
use crate::db::{self, DbConnection};
use crate::domain::campaigns::{self, Campaign, Status};
use crate::domain::eligibility;
use crate::domain::ids::{CampaignId, UserId};
use crate::domain::now;
use crate::domain::profile::Role;
use crate::domain::vouchers::{self, ClaimError};
use crate::error::{ApiError, ErrorCode};
use crate::idempotency::request_hash;
use crate::state::AppState;

/// Published campaigns, newest first, each with `remaining` (paused and closed ones stay
/// reachable by id, so a wallet's links keep working).
pub async fn list(
    state: web::Data<AppState>,
    _principal: Principal,
    q: web::Query<pagination::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let before = pagination::cursor(q.cursor.as_deref(), CampaignId::parse)?;
    let views = db::run(&state.pool, move |conn| {
        let rows = campaigns::list(conn, None, true, before.as_ref(), limit + 1)?;
        rows.into_iter()
            .map(|c| cv::summary(conn, c))
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    Ok(
        HttpResponse::Ok().json(pagination::page(views, limit, |v: &cv::CampaignView| {
            v.id.to_string()
        })),
    )
}

/// A campaign anyone signed in may see: not a draft, unless they administer it.
fn visible(conn: &mut DbConnection, principal: &Principal, id: &CampaignId) -> Result<Campaign, ApiError> {
    let (campaign, path) = campaigns::find_with_union_path(conn, id)?.ok_or(ErrorCode::NotFound)?;
    if campaign.status() != Status::Draft {
        return Ok(campaign);
    }
    let admin_sees = matches!(principal.role, Role::UnionAdmin | Role::PlatformAdmin)
        && AdminScope::load(conn, principal)?.covers(&path);
    if admin_sees {
        Ok(campaign)
    } else {
        Err(ErrorCode::NotFound.into())
    }
}

pub async fn show(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<CampaignId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let view = db::run(&state.pool, move |conn| {
        let campaign = visible(conn, &principal, &id)?;
        cv::detail(conn, campaign)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Every unmet condition and every campaign-state reason, each with its code.
pub async fn eligibility(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<CampaignId>,
) -> Result<HttpResponse, ApiError> {
    principal.require(&[Role::Worker])?;
    let id = id.into_inner();
    let body = db::run(&state.pool, move |conn| {
        let campaign = visible(conn, &principal, &id)?;
        let reasons = eligibility::assess(conn, &campaign, &principal.user_id, now())?.reasons();
        Ok(json!({"campaign_id": id, "eligible": reasons.is_empty(), "reasons": reasons}))
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Everything that decides a claim except stock, run inside the claim's transaction (and
/// on SQLite once before it, so a refusal takes no write lock). Returns the campaign and
/// the claim number the new voucher would take.
fn check_claim(conn: &mut DbConnection, id: &CampaignId, user: &UserId) -> Result<(Campaign, i32), ApiError> {
    let campaign = campaigns::find(conn, id)?
        .filter(|c| c.status() != Status::Draft)
        .ok_or(ErrorCode::NotFound)?;
    let a = eligibility::assess(conn, &campaign, user, now())?;
    if let Some(reason) = &a.window {
        let code = if reason.code == "CAMPAIGN_ENDED" {
            ErrorCode::CampaignEnded
        } else {
            ErrorCode::CampaignNotOpen
        };
        return Err(ApiError::new(code).with_detail(reason.message.clone()));
    }
    if a.limit_reached {
        let latest = a.held.first().map(|v| v.to_string());
        return Err(ApiError::new(ErrorCode::AlreadyClaimed).with_extension("voucher_id", latest));
    }
    if !a.rules.is_empty() {
        return Err(ApiError::new(ErrorCode::NotEligible).with_extension("reasons", json!(a.rules)));
    }
    if a.sold_out {
        return Err(ErrorCode::SoldOut.into());
    }
    Ok((campaign, a.held.len() as i32 + 1))
}

/// The body of a claim is `{}` or nothing.
fn empty_body(body: &[u8]) -> Result<serde_json::Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body) {
        Ok(map) if map.is_empty() => Ok(json!({})),
        Ok(map) => Err(ApiError::invalid(format!(
            "unknown field `{}`: a claim takes no fields",
            map.keys().next().map(String::as_str).unwrap_or_default()
        ))),
        Err(e) => Err(ApiError::invalid(e.to_string())),
    }
}

pub async fn claim(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<CampaignId>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    principal.require(&[Role::Worker])?;
    let hash = request_hash("POST", req.path(), &empty_body(&body)?);
    let key = idempotent::key(&req)?;
    let (id, user) = (id.into_inner(), principal.user_id.clone());
    let st = state.clone();
    let keys = state.voucher_keys.clone();
    let restore = move |stored: String| with_code(&stored, &keys).unwrap_or(stored);
    idempotent::run(
        &state,
        &principal.user_id,
        key,
        hash,
        restore,
        move |ticket| async move {
            let keys = st.voucher_keys.clone();
            db::run(&st.pool, move |conn| {
                // SQLite has a single writer: answer a refusal before taking its write lock.
                // PostgreSQL refuses inside the transaction, which rolls back having written
                // nothing, so checking twice would only cost round trips.
                if matches!(conn, DbConnection::Sqlite(_)) {
                    check_claim(conn, &id, &user)?;
                }
                db::write_tx(conn, |conn| {
                    let (campaign, claim_no) = check_claim(conn, &id, &user)?;
                    let voucher = vouchers::claim(conn, &campaign, &user, claim_no, &keys, now()).map_err(
                        |e| match e {
                            ClaimError::AlreadyClaimed(v) => ApiError::new(ErrorCode::AlreadyClaimed)
                                .with_extension("voucher_id", v.to_string()),
                            ClaimError::SoldOut => ErrorCode::SoldOut.into(),
                            ClaimError::Database(e) => e.into(),
                        },
                    )?;
                    let view = voucher_view(&voucher, &campaign.title, &campaign.item_name, &keys, now());
                    let body = serde_json::to_value(&view).map_err(ApiError::internal)?;
                    if let Some(ticket) = &ticket {
                        ticket.complete(conn, StatusCode::CREATED, &without_code(&body))?;
                    }
                    Ok((StatusCode::CREATED, body.to_string()))
                })
            })
            .await
        },
    )
    .await
}

/// The stored copy of a claim's answer: the code is derived again on replay, so the
/// idempotency table holds nothing redeemable.
fn without_code(body: &serde_json::Value) -> String {
    let mut stored = body.clone();
    if let Some(map) = stored.as_object_mut() {
        map.remove("code");
        map.remove("qr_payload");
    }
    stored.to_string()
}

fn with_code(stored: &str, keys: &crate::domain::voucher_code::VoucherKeys) -> Option<String> {
    let mut body: serde_json::Value = serde_json::from_str(stored).ok()?;
    let id = crate::domain::ids::VoucherId::parse(body["id"].as_str()?)?;
    let code = keys.code_for(&id);
    body["code"] = json!(code.display());
    body["qr_payload"] = json!(code.qr_payload());
    Some(body.to_string())
}
