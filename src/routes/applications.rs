//! The admin's side of membership: list, approve and reject join and transfer
//! applications to unions in the admin's subtree.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::app::{self, membership as app_membership};
use crate::auth::scope::{AdminScope, ADMIN_ROLES};
use crate::auth::Principal;
use crate::db;
use crate::domain::applications;
use crate::domain::ids::ApplicationId;
use crate::domain::invalid::Invalid;
use crate::domain::membership::{ApplicationKind, ApplicationStatus};
use crate::domain::now;
use crate::error::ApiError;
use crate::http::json::{Json, Query};
use crate::http::pagination;
use crate::state::AppState;
use crate::views::membership::{self as views, ApplicationView};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: ListQuery,
    kind: ApplicationKind,
) -> Result<HttpResponse, ApiError> {
    principal.require(ADMIN_ROLES)?;
    let limit = pagination::limit(query.limit)?;
    let after = pagination::cursor(query.cursor.as_deref(), ApplicationId::parse)?;
    let status = match query.status.as_deref() {
        None => None,
        Some(raw) => Some(ApplicationStatus::parse(raw).ok_or_else(|| {
            ApiError::from(Invalid::new(
                "status",
                "应为 pending（待审核）、approved（已通过）或 rejected（已驳回）",
            ))
        })?),
    };
    let views = db::run(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        let rows = applications::list_for_unions(
            conn,
            scope.path_prefix(),
            kind,
            status,
            after.as_ref(),
            limit + 1,
        )?;
        Ok::<_, ApiError>(views::applications(conn, rows)?)
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
    q: Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    list(s, p, q.into_inner(), ApplicationKind::Join).await
}

pub async fn list_transfers(
    s: web::Data<AppState>,
    p: Principal,
    q: Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    list(s, p, q.into_inner(), ApplicationKind::Transfer).await
}

/// Approves, or with a reason rejects, an application of `kind`.
async fn decide(
    state: web::Data<AppState>,
    principal: Principal,
    id: ApplicationId,
    kind: ApplicationKind,
    rejection: Option<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(ADMIN_ROLES)?;
    let view = db::transaction(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        let decided = match &rejection {
            None => app_membership::approve(conn, &scope, &id, kind, now())?,
            Some(reason) => app_membership::reject(conn, &scope, &id, kind, reason, now())?,
        };
        Ok::<_, ApiError>(views::application(conn, decided)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reject {
    reason: String,
}

fn rejection(body: Reject) -> Result<Option<String>, ApiError> {
    Ok(Some(app::text(&body.reason, "reason", 200)?))
}

pub async fn approve_application(
    s: web::Data<AppState>,
    p: Principal,
    id: web::Path<ApplicationId>,
) -> Result<HttpResponse, ApiError> {
    decide(s, p, id.into_inner(), ApplicationKind::Join, None).await
}

pub async fn approve_transfer(
    s: web::Data<AppState>,
    p: Principal,
    id: web::Path<ApplicationId>,
) -> Result<HttpResponse, ApiError> {
    decide(s, p, id.into_inner(), ApplicationKind::Transfer, None).await
}

pub async fn reject_application(
    s: web::Data<AppState>,
    p: Principal,
    id: web::Path<ApplicationId>,
    b: Json<Reject>,
) -> Result<HttpResponse, ApiError> {
    let reason = rejection(b.into_inner())?;
    decide(s, p, id.into_inner(), ApplicationKind::Join, reason).await
}

pub async fn reject_transfer(
    s: web::Data<AppState>,
    p: Principal,
    id: web::Path<ApplicationId>,
    b: Json<Reject>,
) -> Result<HttpResponse, ApiError> {
    let reason = rejection(b.into_inner())?;
    decide(s, p, id.into_inner(), ApplicationKind::Transfer, reason).await
}
