//! The admin's side of redemption: reversal (冲正), the redemption log, revoking vouchers.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::app::{self, voucher_admin as app_redemptions};
use crate::auth::scope::AdminScope;
use crate::auth::Principal;
use crate::db;
use crate::domain::ids::{CampaignId, RedemptionId, VoucherId};
use crate::domain::{now, redemptions};
use crate::error::ApiError;
use crate::http::json::{Json, Query};
use crate::http::pagination;
use crate::state::AppState;
use crate::views::vouchers::RedemptionView;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    reason: String,
}

fn reason(body: ReasonBody) -> Result<String, ApiError> {
    Ok(app::text(&body.reason, "reason", 200)?)
}

/// 冲正 within 24 hours: the voucher is `issued` again; who, when and why are recorded.
pub async fn reverse(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<RedemptionId>,
    body: Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, reason) = (id.into_inner(), reason(body.into_inner())?);
    let reversed = db::transaction(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        Ok::<_, ApiError>(app_redemptions::reverse(conn, &scope, &id, &reason, now())?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(RedemptionView::from(reversed)))
}

/// The redemption log of a campaign, newest first.
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<CampaignId>,
    q: Query<pagination::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let limit = pagination::limit(q.limit)?;
    let before = pagination::cursor(q.cursor.as_deref(), RedemptionId::parse)?;
    let views = db::run(&state.pool, move |conn| {
        AdminScope::load(conn, &principal)?.campaign(conn, &id)?;
        let rows = redemptions::of_campaign(conn, &id, before.as_ref(), limit + 1)?;
        Ok::<_, ApiError>(rows.into_iter().map(RedemptionView::from).collect::<Vec<_>>())
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
    body: Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, reason) = (id.into_inner(), reason(body.into_inner())?);
    let revoked = db::transaction(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        Ok::<_, ApiError>(app_redemptions::revoke(conn, &scope, &id, &reason, now())?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(revoked))
}
