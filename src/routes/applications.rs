//! The admin's side of membership: list, approve and reject join and transfer
//! applications to unions in the admin's subtree.

use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;

use super::membership::{view, ApplicationView};
use super::pagination;
use crate::auth::scope::AdminScope;
use crate::auth::Principal;
use crate::db::schema::{membership_applications as apps, unions};
use crate::db::{self, DbConnection};
use crate::domain::ids::ApplicationId;
use crate::domain::membership::{self as ms, Application, Kind};
use crate::domain::now;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: ListQuery,
    kind: Kind,
) -> Result<HttpResponse, ApiError> {
    principal.require(crate::auth::scope::ADMIN_ROLES)?;
    let limit = pagination::limit(query.limit)?;
    let after = pagination::cursor(query.cursor.as_deref(), ApplicationId::parse)?;
    let status = match query.status.as_deref() {
        None => None,
        Some(s @ ("pending" | "approved" | "rejected")) => Some(s.to_owned()),
        Some(_) => return Err(ApiError::invalid("status must be pending, approved or rejected")),
    };
    let views = db::run(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        let mut q = apps::table
            .inner_join(unions::table)
            .filter(apps::kind.eq(kind.as_str()))
            .select(Application::as_select())
            .order(apps::id.asc())
            .limit(limit + 1)
            .into_boxed();
        if let Some(prefix) = scope.path_prefix() {
            q = q.filter(unions::path.like(format!("{prefix}%")));
        }
        if let Some(status) = status {
            q = q.filter(apps::status.eq(status));
        }
        if let Some(after) = after {
            q = q.filter(apps::id.gt(after));
        }
        let rows: Vec<Application> = q.load(conn)?;
        rows.into_iter()
            .map(|a| view(conn, a))
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    Ok(
        HttpResponse::Ok().json(pagination::page(views, limit, |v: &ApplicationView| {
            v.id.to_string()
        })),
    )
}

pub async fn list_applications(
    s: web::Data<AppState>,
    p: Principal,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    list(s, p, q.into_inner(), Kind::Join).await
}

pub async fn list_transfers(
    s: web::Data<AppState>,
    p: Principal,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    list(s, p, q.into_inner(), Kind::Transfer).await
}

/// The application of `kind` if it targets a union in the admin's scope; 404 otherwise,
/// so another district learns nothing about it.
fn load_for_admin(
    conn: &mut DbConnection,
    scope: &AdminScope,
    id: &ApplicationId,
    kind: Kind,
) -> Result<Application, ApiError> {
    let row: Option<(Application, String)> = apps::table
        .inner_join(unions::table)
        .filter(apps::id.eq(id))
        .filter(apps::kind.eq(kind.as_str()))
        .select((Application::as_select(), unions::path))
        .first(conn)
        .optional()?;
    match row {
        Some((app, path)) if scope.covers(&path) => Ok(app),
        _ => Err(ErrorCode::NotFound.into()),
    }
}

async fn approve(
    state: web::Data<AppState>,
    principal: Principal,
    id: ApplicationId,
    kind: Kind,
) -> Result<HttpResponse, ApiError> {
    principal.require(crate::auth::scope::ADMIN_ROLES)?;
    let view = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let scope = AdminScope::load(conn, &principal)?;
            let app = load_for_admin(conn, &scope, &id, kind)?;
            ms::approve(conn, &app, scope.user(), now())?;
            let app = ms::find(conn, &id)?.ok_or(ErrorCode::NotFound)?;
            view(conn, app)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reject {
    reason: String,
}

async fn reject(
    state: web::Data<AppState>,
    principal: Principal,
    id: ApplicationId,
    kind: Kind,
    body: Reject,
) -> Result<HttpResponse, ApiError> {
    principal.require(crate::auth::scope::ADMIN_ROLES)?;
    let reason = crate::domain::profile::bounded_text(&body.reason, 200)
        .ok_or_else(|| ApiError::invalid("reason must be 1-200 characters"))?;
    let view = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let scope = AdminScope::load(conn, &principal)?;
            load_for_admin(conn, &scope, &id, kind)?;
            ms::reject(conn, &id, scope.user(), &reason, now())?;
            let app = ms::find(conn, &id)?.ok_or(ErrorCode::NotFound)?;
            view(conn, app)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn approve_application(
    s: web::Data<AppState>,
    p: Principal,
    id: web::Path<ApplicationId>,
) -> Result<HttpResponse, ApiError> {
    approve(s, p, id.into_inner(), Kind::Join).await
}

pub async fn approve_transfer(
    s: web::Data<AppState>,
    p: Principal,
    id: web::Path<ApplicationId>,
) -> Result<HttpResponse, ApiError> {
    approve(s, p, id.into_inner(), Kind::Transfer).await
}

pub async fn reject_application(
    s: web::Data<AppState>,
    p: Principal,
    id: web::Path<ApplicationId>,
    b: web::Json<Reject>,
) -> Result<HttpResponse, ApiError> {
    reject(s, p, id.into_inner(), Kind::Join, b.into_inner()).await
}

pub async fn reject_transfer(
    s: web::Data<AppState>,
    p: Principal,
    id: web::Path<ApplicationId>,
    b: web::Json<Reject>,
) -> Result<HttpResponse, ApiError> {
    reject(s, p, id.into_inner(), Kind::Transfer, b.into_inner()).await
}
