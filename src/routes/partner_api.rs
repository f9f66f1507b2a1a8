//! The partner API (`/api/v1/partner/…`): what a platform may do with its token's scopes,
//! and only for workers who granted it (anyone else is a 404, as if absent).

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::app::partners::{self as app, Attest};
use crate::auth::partner::PartnerPrincipal;
use crate::db;
use crate::domain::eligibility;
use crate::domain::grants;
use crate::domain::ids::{CampaignId, GrantId, UserId, VoucherId};
use crate::domain::partners::Scope;
use crate::domain::phone::mask_name;
use crate::domain::voucher_reads;
use crate::domain::{now, utc};
use crate::error::{ApiError, ErrorCode};
use crate::http::json::{Json, Query};
use crate::http::pagination;
use crate::state::AppState;
use crate::views::vouchers::{wallet_entry, VoucherView};

/// `POST /partner/attestations`: 202 whether or not the phone is registered.
pub async fn attest(
    state: web::Data<AppState>,
    partner: PartnerPrincipal,
    body: Json<Attest>,
) -> Result<HttpResponse, ApiError> {
    partner.require(Scope::AttestationsWrite)?;
    let (body, keys) = (body.into_inner(), state.voucher_keys.clone());
    let id = db::transaction(&state.pool, move |conn| {
        Ok::<_, ApiError>(app::attest(conn, &keys, &partner.partner_id, body, now())?)
    })
    .await?;
    Ok(HttpResponse::Accepted().json(json!({"id": id})))
}

/// `GET /partner/workers`: workers who granted this partner, newest grant first.
pub async fn workers(
    state: web::Data<AppState>,
    partner: PartnerPrincipal,
    q: Query<pagination::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    partner.require(Scope::WorkersRead)?;
    let limit = pagination::limit(q.limit)?;
    let before = pagination::cursor(q.cursor.as_deref(), GrantId::parse)?;
    let rows = db::run(&state.pool, move |conn| {
        Ok::<_, ApiError>(grants::workers_of(
            conn,
            &partner.partner_id,
            before.as_ref(),
            limit + 1,
        )?)
    })
    .await?;
    let items: Vec<(GrantId, serde_json::Value)> = rows
        .into_iter()
        .map(|(g, worker, name, at)| {
            (
                g,
                json!({"worker_id": worker, "name_masked": mask_name(&name), "granted_at": utc(at)}),
            )
        })
        .collect();
    let page = pagination::page(items, limit, |(g, _)| g.to_string());
    let items: Vec<_> = page.items.into_iter().map(|(_, v)| v).collect();
    Ok(HttpResponse::Ok().json(json!({"items": items, "next_cursor": page.next_cursor})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EligibilityQuery {
    campaign_id: CampaignId,
}

/// The worker's eligibility for a campaign, every reason included; not granted → 404.
pub async fn eligibility(
    state: web::Data<AppState>,
    partner: PartnerPrincipal,
    worker: web::Path<UserId>,
    q: Query<EligibilityQuery>,
) -> Result<HttpResponse, ApiError> {
    partner.require(Scope::WorkersRead)?;
    let (worker, campaign_id) = (worker.into_inner(), q.into_inner().campaign_id);
    let body = db::run(&state.pool, move |conn| {
        if !grants::granted(conn, &partner.partner_id, &worker)? {
            return Err(ApiError::from(ErrorCode::NotFound));
        }
        let (_, assessment) = eligibility::assess(conn, &campaign_id, &worker, now())?.ok_or(ErrorCode::NotFound)?;
        let reasons = assessment.reasons();
        Ok(json!({"worker_id": worker, "campaign_id": campaign_id, "eligible": reasons.is_empty(), "reasons": reasons}))
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// The worker's wallet with codes, to show at the counter inside the partner's app.
pub async fn vouchers(
    state: web::Data<AppState>,
    partner: PartnerPrincipal,
    worker: web::Path<UserId>,
    q: Query<pagination::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    partner.require(Scope::VouchersRead)?;
    let worker = worker.into_inner();
    let limit = pagination::limit(q.limit)?;
    let before = pagination::cursor(q.cursor.as_deref(), VoucherId::parse)?;
    let keys = state.voucher_keys.clone();
    let views = db::run(&state.pool, move |conn| {
        if !grants::granted(conn, &partner.partner_id, &worker)? {
            return Err(ApiError::from(ErrorCode::NotFound));
        }
        let rows = voucher_reads::wallet(conn, &worker, before.as_ref(), limit + 1)?;
        let at = now();
        Ok(rows
            .iter()
            .map(|(e, r)| wallet_entry(e, r.as_ref(), &keys, at))
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(pagination::page(views, limit, |v: &VoucherView| v.id.to_string())))
}
