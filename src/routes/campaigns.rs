//! The worker's side of campaigns: browse and check eligibility (claims: `claims`).

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::as_worker;
use crate::auth::scope::{visible_campaign, ScopeError};
use crate::auth::{Presented, Principal};
use crate::db;
use crate::domain::campaigns;
use crate::domain::ids::CampaignId;
use crate::error::ApiError;
use crate::http::json::Query;
use crate::http::pagination;
use crate::state::AppState;
use crate::views::campaigns::{self as views, CampaignView};

/// Published campaigns, newest first, each with `remaining` (paused and closed ones stay
/// reachable by id, so a wallet's links keep working).
pub async fn list(
    state: web::Data<AppState>,
    _principal: Principal,
    q: Query<pagination::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let before = pagination::cursor(q.cursor.as_deref(), CampaignId::parse)?;
    let views = db::run(&state.pool, move |conn| {
        let rows = campaigns::list(conn, None, true, before.as_ref(), limit + 1)?;
        Ok::<_, ApiError>(views::summaries(conn, rows)?)
    })
    .await?;
    Ok(
        HttpResponse::Ok().json(pagination::page(views, limit, |v: &CampaignView| {
            v.id.to_string()
        })),
    )
}

pub async fn show(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<CampaignId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let view = db::run(&state.pool, move |conn| {
        let campaign = visible_campaign(conn, &principal, &id)?;
        Ok::<_, ApiError>(views::detail(conn, campaign)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Every unmet condition and every campaign-state reason, each with its code.
/// The session is checked in the same statement as the worker's standing
/// (`eligibility::assess_as`), and nothing is answered before it is settled.
pub async fn eligibility(
    state: web::Data<AppState>,
    presented: Presented,
    id: web::Path<CampaignId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let st = state.clone();
    let body = db::run(&state.pool, move |conn| {
        let assessed = as_worker::assess(conn, presented, &id)?;
        // A worker sees every campaign but drafts (`scope::visible_campaign`): `assess`
        // answers `None` for those.
        let (campaign, assessment) = assessed.ok_or(ScopeError::NotFound)?;
        // The page a worker reads before claiming: the claim can then be one statement.
        st.open_campaigns.note(&campaign);
        let reasons = assessment.reasons();
        Ok::<_, ApiError>(json!({"campaign_id": id, "eligible": reasons.is_empty(), "reasons": reasons}))
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}
