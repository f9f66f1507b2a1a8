//! The office's staff: list, edit, disable, reset a password.

use actix_web::{web, HttpResponse};
use serde::Serialize;

use crate::app::staff::{self as app, StaffEdit};
use crate::auth::scope::AdminScope;
use crate::auth::Principal;
use crate::db;
use crate::domain::ids::UserId;
use crate::domain::now;
use crate::domain::staff;
use crate::error::ApiError;
use crate::http::json::{Json, Query};
use crate::http::pagination;
use crate::state::AppState;
use crate::views::accounts::{staff_row, StaffView};

/// Staff of the admin's subtree, by id, phones masked.
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<pagination::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(query.limit)?;
    let after = pagination::cursor(query.cursor.as_deref(), UserId::parse)?;
    let views = db::run(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        let rows = staff::list(conn, scope.path_prefix(), None, after.as_ref(), limit + 1)?;
        let ids: Vec<UserId> = rows.iter().map(|r| r.id.clone()).collect();
        let bindings = staff::stations_of(conn, &ids)?;
        let views: Vec<StaffView> = rows.into_iter().map(|r| staff_row(r, &bindings)).collect();
        Ok::<_, ApiError>(views)
    })
    .await?;
    Ok(HttpResponse::Ok().json(pagination::page(views, limit, |v: &StaffView| v.id().to_string())))
}

async fn one(state: &AppState, scope_of: Principal, id: UserId) -> Result<StaffView, ApiError> {
    db::run(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &scope_of)?;
        let row = app::staff_in_scope(conn, &scope, &id)?;
        let bindings = staff::stations_of(conn, std::slice::from_ref(&row.id))?;
        Ok::<_, ApiError>(staff_row(row, &bindings))
    })
    .await
}

/// `{name?, station_ids?, disabled?}`; disabling ends the account's sessions at once.
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<UserId>,
    body: Json<StaffEdit>,
) -> Result<HttpResponse, ApiError> {
    let (id, edit) = (id.into_inner(), body.into_inner());
    let (p, target) = (principal.clone(), id.clone());
    db::transaction(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &p)?;
        Ok::<_, ApiError>(app::update(conn, &scope, &target, edit, now())?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(one(&state, principal, id).await?))
}

#[derive(Debug, Serialize)]
struct TemporaryPassword {
    temporary_password: String,
    password_change_required: bool,
}

/// A temporary password, shown once; the account must change it at its next sign-in.
pub async fn reset_password(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    // Scope first, so nobody pays for a hash on an account they cannot touch.
    one(&state, principal.clone(), id.clone()).await?;
    let temporary = app::temporary_password();
    let hash = state.hasher.hash(temporary.clone()).await?;
    db::transaction(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        Ok::<_, ApiError>(app::reset_password(conn, &scope, &id, &hash, now())?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(TemporaryPassword {
        temporary_password: temporary,
        password_change_required: true,
    }))
}
