//! Admins' view of the workers whose membership lies in their subtree.

use actix_web::{web, HttpResponse};

use crate::app::workers as app;
use crate::auth::scope::{AdminScope, ADMIN_ROLES};
use crate::auth::Principal;
use crate::db;
use crate::domain::ids::UserId;
use crate::domain::now;
use crate::domain::workers::{self, WorkerFlags};
use crate::error::ApiError;
use crate::http::json::{Json, Query};
use crate::http::pagination;
use crate::state::AppState;
use crate::views::accounts::WorkerView;

pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<pagination::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require(ADMIN_ROLES)?;
    let limit = pagination::limit(query.limit)?;
    let after = pagination::cursor(query.cursor.as_deref(), UserId::parse)?;
    let rows = db::run(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        let members = workers::members(conn, scope.path_prefix(), None, after.as_ref(), limit + 1)?;
        Ok::<_, ApiError>(members.into_iter().map(WorkerView::from).collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(pagination::page(rows, limit, |w: &WorkerView| w.id.to_string())))
}

/// Sets the flags only staff may set; recorded in the audit trail with who and when.
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<UserId>,
    body: Json<WorkerFlags>,
) -> Result<HttpResponse, ApiError> {
    principal.require(ADMIN_ROLES)?;
    let (id, flags) = (id.into_inner(), body.into_inner());
    let member = db::transaction(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        Ok::<_, ApiError>(app::set_flags(conn, &scope, &id, &flags, now())?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(WorkerView::from(member)))
}
