//! Joining and transferring: the worker's side and the counter's on-site join.
//! The admin's side is in `applications`.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::app::membership::{self as app, OnSiteJoin};
use crate::auth::scope::CounterScope;
use crate::auth::Principal;
use crate::db;
use crate::domain::applications;
use crate::domain::ids::{ApplicationId, UnionId};
use crate::domain::membership::ApplicationKind;
use crate::domain::now;
use crate::domain::profile::Role;
use crate::error::{ApiError, ErrorCode};
use crate::http::json::{Json, Query};
use crate::http::pagination;
use crate::http::throttle;
use crate::state::AppState;
use crate::views::membership::{self as views, ApplicationView};

/// A worker's own application to `union`.
async fn submit_own(
    state: &AppState,
    principal: Principal,
    union: UnionId,
    kind: ApplicationKind,
) -> Result<HttpResponse, ApiError> {
    principal.require(&[Role::Worker])?;
    let view = db::transaction(&state.pool, move |conn| {
        let app = app::apply(conn, &principal.user_id, &union, kind, now())?;
        Ok::<_, ApiError>(views::application(conn, app)?)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// The worker's own applications (join and transfer), newest first, so a rejected
/// applicant sees why.
pub async fn mine(
    state: web::Data<AppState>,
    principal: Principal,
    q: Query<pagination::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let before = pagination::cursor(q.cursor.as_deref(), ApplicationId::parse)?;
    let views = db::run(&state.pool, move |conn| {
        let rows = applications::of_user(conn, &principal.user_id, before.as_ref(), limit + 1)?;
        Ok::<_, ApiError>(views::applications(conn, rows)?)
    })
    .await?;
    Ok(
        HttpResponse::Ok().json(pagination::page(views, limit, |v: &ApplicationView| {
            v.id.to_string()
        })),
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Apply {
    union_id: UnionId,
}

pub async fn apply(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<Apply>,
) -> Result<HttpResponse, ApiError> {
    submit_own(
        &state,
        principal,
        body.into_inner().union_id,
        ApplicationKind::Join,
    )
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    to_union_id: UnionId,
}

pub async fn transfer(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<Transfer>,
) -> Result<HttpResponse, ApiError> {
    submit_own(
        &state,
        principal,
        body.into_inner().to_union_id,
        ApplicationKind::Transfer,
    )
    .await
}

/// On-site join at a station (see `app::membership::join_on_site`).
pub async fn onsite(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<OnSiteJoin>,
) -> Result<HttpResponse, ApiError> {
    principal.require(&[Role::Counter])?;
    let body = body.into_inner();
    let keys = state.voucher_keys.clone();
    // Join codes are guessed like voucher codes are: the same reserve-first budget.
    let guess_key = throttle::join_guess_key(&principal.user_id);
    throttle::reserve_guess(&state, &guess_key).await?;
    let view = db::transaction(&state.pool, move |conn| {
        let scope = CounterScope::load(conn, &principal)?;
        let app = app::join_on_site(conn, &scope, &keys, &body, now())?;
        Ok::<_, ApiError>(views::application(conn, app)?)
    })
    .await;
    let unknown = matches!(&view, Err(e) if e.code() == ErrorCode::NotFound);
    if !unknown {
        throttle::refund_guess(&state, &guess_key).await;
    }
    let view = view?;
    Ok(HttpResponse::Created().json(view))
}
