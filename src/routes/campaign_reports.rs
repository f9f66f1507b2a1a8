//! What admins read about a campaign: its stats, its vouchers by status, and a dry run
//! of its rules.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::auth::scope::AdminScope;
use crate::auth::Principal;
use crate::db;
use crate::domain::ids::{CampaignId, VoucherId};
use crate::domain::invalid::Invalid;
use crate::domain::vouchers::VoucherState;
use crate::domain::{eligibility, now, voucher_reads, voucher_stats};
use crate::error::ApiError;
use crate::http::json::Query;
use crate::http::pagination;
use crate::state::AppState;
use crate::views::vouchers::{held, HeldVoucher};

/// Claimed vs redeemed at a glance (see `voucher_stats::CampaignStats`).
pub async fn stats(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<CampaignId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let stats = db::run(&state.pool, move |conn| {
        let (c, _) = AdminScope::load(conn, &principal)?.campaign(conn, &id)?;
        Ok::<_, ApiError>(voucher_stats::campaign_stats(conn, &c, now())?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(stats))
}

/// How many current members of the admin's subtree the campaign's rules would admit,
/// and how many each unmet condition keeps out. Reads only.
pub async fn dry_run(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<CampaignId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let body = db::run(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        let (c, _) = scope.campaign(conn, &id)?;
        let run = eligibility::dry_run(conn, &c, scope.path_prefix().unwrap_or("/"))?;
        Ok::<_, ApiError>(
            json!({"campaign_id": id, "members_considered": run.members_considered,
            "admitted": run.admitted, "unmet": run.unmet}),
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoucherQuery {
    status: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// A campaign's vouchers by status, holders masked: `?status=issued` (the default) is the
/// list of 已领取未核销 to chase.
pub async fn vouchers(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<CampaignId>,
    q: Query<VoucherQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, q) = (id.into_inner(), q.into_inner());
    let limit = pagination::limit(q.limit)?;
    let before = pagination::cursor(q.cursor.as_deref(), VoucherId::parse)?;
    let wanted = match q.status.as_deref() {
        None => VoucherState::Issued,
        Some(raw) => VoucherState::parse(raw).ok_or_else(|| {
            ApiError::from(Invalid::new(
                "status",
                "应为 issued、redeemed、expired、cancelled 或 revoked",
            ))
        })?,
    };
    let rows = db::run(&state.pool, move |conn| {
        AdminScope::load(conn, &principal)?.campaign(conn, &id)?;
        let t = now();
        let rows = voucher_reads::of_campaign(conn, &id, wanted, t, before.as_ref(), limit + 1)?;
        Ok::<_, ApiError>(
            rows.into_iter()
                .map(|(v, name, phone, live)| held(v, &name, &phone, live.as_ref(), t))
                .collect::<Vec<_>>(),
        )
    })
    .await?;
    Ok(
        HttpResponse::Ok().json(pagination::page(rows, limit, |v: &HeldVoucher| {
            v.voucher_id.to_string()
        })),
    )
}
