//! The admin's side of campaigns: create, edit, publish ⇄ pause, close, list.
//! What admins read about one (stats, dry run) is in `campaign_reports`.

use actix_web::{web, HttpResponse};

use crate::app::allocation;
use crate::app::campaigns::{self as app, CampaignEdit, Move, NewCampaign};
use crate::auth::scope::{AdminScope, ADMIN_ROLES};
use crate::auth::Principal;
use crate::db;
use crate::domain::campaigns::{self, CampaignMode, CampaignStatus};
use crate::domain::ids::{CampaignId, UserId};
use crate::domain::now;
use crate::error::{ApiError, ErrorCode};
use crate::http::json::{Json, Query};
use crate::http::pagination;
use crate::state::AppState;
use crate::views::campaigns::{self as views, CampaignView};

pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<NewCampaign>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let view = db::transaction(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        let created = app::create(conn, &scope, &body, now())?;
        Ok::<_, ApiError>(views::detail(conn, created)?)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Drafts change freely; published campaigns only as `app::campaigns::edit` allows.
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<CampaignId>,
    body: Json<CampaignEdit>,
) -> Result<HttpResponse, ApiError> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let view = db::transaction(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        let updated = app::edit(conn, &scope, &id, &body, now())?;
        Ok::<_, ApiError>(views::detail(conn, updated)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Deletes a draft (204); anything else is 409.
pub async fn delete(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<CampaignId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    db::transaction(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        Ok::<_, ApiError>(app::delete(conn, &scope, &id, now())?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn transition(
    state: web::Data<AppState>,
    principal: Principal,
    id: CampaignId,
    step: Move,
) -> Result<HttpResponse, ApiError> {
    principal.require(ADMIN_ROLES)?;
    let who = principal.user_id.clone();
    let view = db::transaction(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        let moved = app::transition(conn, &scope, &id, step, now())?;
        Ok::<_, ApiError>(views::detail(conn, moved)?)
    })
    .await?;
    let allocating = view.mode == CampaignMode::Allocate && view.status == CampaignStatus::Published;
    if step != Move::Publish || !allocating {
        return Ok(HttpResponse::Ok().json(view));
    }
    // Published and checked: the vouchers go out a batch per transaction.
    let allocated = run_allocation(&state, view.id.clone(), who, None).await?;
    let view = db::run(&state.pool, move |conn| {
        let c = campaigns::find(conn, &view.id)?.ok_or(ApiError::new(ErrorCode::NotFound))?;
        Ok::<_, ApiError>(views::detail(conn, c)?)
    })
    .await?;
    let mut body = serde_json::to_value(view).map_err(ApiError::internal)?;
    body["allocated"] = allocated.into();
    Ok(HttpResponse::Ok().json(body))
}

/// An allocation pass on a pooled connection: of `generation` (a top-up's), or of the
/// one a publication began (none when it resumed a paused campaign: nothing pending).
async fn run_allocation(
    state: &AppState,
    id: CampaignId,
    who: UserId,
    generation: Option<i32>,
) -> Result<i64, ApiError> {
    let (keys, plan) = (state.voucher_keys.clone(), state.allocation_plan);
    db::run(&state.pool, move |conn| {
        let generation = match generation {
            Some(g) => g,
            None => match campaigns::find(conn, &id)?.filter(|c| c.allocation_pending) {
                Some(c) => c.allocation_generation,
                None => return Ok(0),
            },
        };
        let by = Some(&who);
        Ok::<_, ApiError>(allocation::run(conn, &id, &keys, plan, by, generation, now())?)
    })
    .await
}

/// `{}`: the top-up takes no options.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopUp {}

/// `POST /admin/campaigns/{id}/allocate`: vouchers for the workers admitted since the
/// last pass → `{allocated, admitted}` (contract v1.1).
pub async fn allocate(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<CampaignId>,
    _body: Json<TopUp>,
) -> Result<HttpResponse, ApiError> {
    let (id, who) = (id.into_inner(), principal.user_id.clone());
    let checked = id.clone();
    let (admitted, generation) = db::transaction(&state.pool, move |conn| {
        let (c, _) = AdminScope::load(conn, &principal)?.campaign(conn, &checked)?;
        Ok::<_, ApiError>(allocation::top_up(conn, &c, now())?)
    })
    .await?;
    let allocated = run_allocation(&state, id, who, Some(generation)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"allocated": allocated, "admitted": admitted})))
}

pub async fn publish(
    s: web::Data<AppState>,
    p: Principal,
    id: web::Path<CampaignId>,
) -> Result<HttpResponse, ApiError> {
    transition(s, p, id.into_inner(), Move::Publish).await
}

pub async fn pause(
    s: web::Data<AppState>,
    p: Principal,
    id: web::Path<CampaignId>,
) -> Result<HttpResponse, ApiError> {
    transition(s, p, id.into_inner(), Move::Pause).await
}

pub async fn close(
    s: web::Data<AppState>,
    p: Principal,
    id: web::Path<CampaignId>,
) -> Result<HttpResponse, ApiError> {
    transition(s, p, id.into_inner(), Move::Close).await
}

pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    q: Query<pagination::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let before = pagination::cursor(q.cursor.as_deref(), CampaignId::parse)?;
    let views = db::run(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        let under = Some(scope.path_prefix().unwrap_or("/"));
        let rows = campaigns::list(conn, under, false, before.as_ref(), limit + 1)?;
        Ok::<_, ApiError>(views::summaries(conn, rows)?)
    })
    .await?;
    Ok(
        HttpResponse::Ok().json(pagination::page(views, limit, |v: &CampaignView| {
            v.id.to_string()
        })),
    )
}
