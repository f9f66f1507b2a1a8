//! The admin's side of redemption: reversal (冲正), the redemption log, revoking vouchers.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::campaign_views::campaign_in_scope;
use super::counter::RedemptionView;
use super::pagination;
use crate::auth::scope::AdminScope;
use crate::auth::Principal;
use crate::db::{self, DbConnection};
use crate::domain::ids::{CampaignId, RedemptionId, VoucherId};
use crate::domain::profile::bounded_text;
use crate::domain::redemptions::{self, ReverseError};
use crate::domain::{audit, now, vouchers};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// 404 unless the campaign's union lies in the admin's scope.
fn campaign_covered(conn: &mut DbConnection, scope: &AdminScope, id: &CampaignId) -> Result<(), ApiError> {
    campaign_in_scope(conn, scope, id).map(|_| ())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    reason: String,
}

fn reason(body: ReasonBody) -> Result<String, ApiError> {
    bounded_text(&body.reason, 200).ok_or_else(|| ApiError::invalid("reason must be 1-200 characters"))
}

/// 冲正 within 24 hours: the voucher is `issued` again; who, when and why are recorded.
pub async fn reverse(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<RedemptionId>,
    body: web::Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, reason) = (id.into_inner(), reason(body.into_inner())?);
    let view = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let scope = AdminScope::load(conn, &principal)?;
            let redemption = redemptions::find(conn, &id)?.ok_or(ErrorCode::NotFound)?;
            campaign_covered(conn, &scope, &redemption.campaign_id)?;
            let at = now();
            redemptions::reverse(conn, &redemption, scope.user(), &reason, at).map_err(|e| match e {
                ReverseError::WindowPassed => ApiError::new(ErrorCode::ReversalWindowPassed),
                ReverseError::AlreadyReversed => ApiError::new(ErrorCode::AlreadyReversed),
                ReverseError::Database(e) => e.into(),
            })?;
            let detail = json!({"voucher_id": redemption.voucher_id, "reason": reason});
            audit::record(conn, scope.user(), "redemption.reverse", id.as_str(), &detail, at)?;
            let reversed = redemptions::find(conn, &id)?.ok_or(ErrorCode::NotFound)?;
            Ok(RedemptionView::from(reversed))
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The redemption log of a campaign, newest first.
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<CampaignId>,
    q: web::Query<pagination::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let limit = pagination::limit(q.limit)?;
    let before = pagination::cursor(q.cursor.as_deref(), RedemptionId::parse)?;
    let views = db::run(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        campaign_covered(conn, &scope, &id)?;
        let rows = redemptions::of_campaign(conn, &id, before.as_ref(), limit + 1)?;
        Ok(rows.into_iter().map(RedemptionView::from).collect::<Vec<_>>())
    })
    .await?;
    Ok(
        HttpResponse::Ok().json(pagination::page(views, limit, |v: &RedemptionView| {
            v.id.to_string()
        })),
    )
}

/// Withdraws an unused voucher (say, claimed by fraud); its unit returns to stock.
pub async fn revoke(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<VoucherId>,
    body: web::Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, reason) = (id.into_inner(), reason(body.into_inner())?);
    let body = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let scope = AdminScope::load(conn, &principal)?;
            let voucher = vouchers::find(conn, &id)?.ok_or(ErrorCode::NotFound)?;
            campaign_covered(conn, &scope, &voucher.campaign_id)?;
            let at = now();
            if voucher.status_at(at) != "issued" || !vouchers::revoke(conn, &voucher, scope.user(), &reason, at)? {
                return Err(ErrorCode::VoucherNotActive.into());
            }
            audit::record(conn, scope.user(), "voucher.revoke", id.as_str(), &json!({"reason": reason}), at)?;
            Ok(json!({"voucher_id": id, "status": "revoked", "revoked_at": crate::domain::utc(at), "reason": reason}))
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}
