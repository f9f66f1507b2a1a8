//! Partners as admins manage them and workers grant them.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::app::partners::{self as app, NewPartner};
use crate::auth::scope::{AdminScope, ADMIN_ROLES};
use crate::auth::Principal;
use crate::db;
use crate::domain::attestations;
use crate::domain::grants::{self, Grant};
use crate::domain::ids::{AttestationId, GrantId, PartnerId};
use crate::domain::partners::{self, Partner};
use crate::domain::profile::Role;
use crate::domain::{now, utc};
use crate::error::ApiError;
use crate::http::json::{Json, Query};
use crate::http::pagination;
use crate::state::AppState;

/// A partner as admins see it: never its secret.
fn view(p: &Partner) -> serde_json::Value {
    json!({
        "id": p.id, "name": p.name, "union_id": p.union_id, "scopes": p.scopes(),
        "client_id": p.client_id, "created_at": utc(p.created_at),
        "disabled_at": p.disabled_at.map(utc),
    })
}

fn grant_view(g: &Grant) -> serde_json::Value {
    json!({"id": g.id, "partner_id": g.partner_id, "partner_name": g.partner_name, "created_at": utc(g.created_at)})
}

/// `POST /admin/partners`: the secret is shown this once.
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<NewPartner>,
) -> Result<HttpResponse, ApiError> {
    principal.require(ADMIN_ROLES)?;
    let body = body.into_inner();
    let (partner, secret) = db::transaction(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        Ok::<_, ApiError>(app::create(conn, &scope, &body, now())?)
    })
    .await?;
    let mut v = view(&partner);
    v["client_secret"] = json!(secret);
    Ok(HttpResponse::Created().json(v))
}

/// `GET /admin/partners`: the admin's subtree.
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    q: Query<pagination::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require(ADMIN_ROLES)?;
    let rows = db::run(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        Ok::<_, ApiError>(partners::under(conn, scope.path_prefix().unwrap_or("/"))?)
    })
    .await?;
    let views: Vec<_> = rows.iter().map(view).collect();
    Ok(HttpResponse::Ok().json(pagination::page_in_memory(
        views,
        &q,
        false,
        pagination::json_key("id"),
        pagination::is_uuid,
    )?))
}

pub async fn disable(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<PartnerId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let partner = db::transaction(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        Ok::<_, ApiError>(app::disable(conn, &scope, &id, now())?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view(&partner)))
}

pub async fn rotate_secret(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<PartnerId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let secret = db::transaction(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        Ok::<_, ApiError>(app::rotate_secret(conn, &scope, &id, now())?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"client_secret": secret})))
}

/// `GET /admin/attestations`: attestations by partners of the admin's subtree (phones masked).
pub async fn attestations(
    state: web::Data<AppState>,
    principal: Principal,
    q: Query<pagination::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let before = pagination::cursor(q.cursor.as_deref(), AttestationId::parse)?;
    let rows = db::run(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        let path = scope.path_prefix().unwrap_or("/").to_owned();
        Ok::<_, ApiError>(attestations::under(conn, &path, before.as_ref(), limit + 1)?)
    })
    .await?;
    let views: Vec<serde_json::Value> = rows
        .iter()
        .map(|a| {
            let mut v = json!(a);
            v["created_at"] = json!(utc(a.created_at));
            v["applied_at"] = json!(a.applied_at.map(utc));
            v
        })
        .collect();
    Ok(HttpResponse::Ok().json(pagination::page(views, limit, |v| {
        v["id"].as_str().unwrap_or_default().to_owned()
    })))
}

/// `GET /partners`: enabled partners a worker may grant.
pub async fn directory(
    state: web::Data<AppState>,
    _principal: Principal,
    q: Query<pagination::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut rows = db::run(&state.pool, move |conn| {
        Ok::<_, ApiError>(partners::enabled(conn)?)
    })
    .await?;
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let items: Vec<_> = rows
        .into_iter()
        .map(|(id, name)| json!({"id": id, "name": name}))
        .collect();
    Ok(HttpResponse::Ok().json(pagination::page_in_memory(
        items,
        &q,
        false,
        pagination::json_key("id"),
        pagination::is_uuid,
    )?))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantBody {
    partner_id: PartnerId,
}

pub async fn grant(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<GrantBody>,
) -> Result<HttpResponse, ApiError> {
    principal.require(&[Role::Worker])?;
    let partner = body.into_inner().partner_id;
    let g = db::transaction(&state.pool, move |conn| {
        Ok::<_, ApiError>(app::grant(conn, &principal.user_id, &partner, now())?)
    })
    .await?;
    Ok(HttpResponse::Created().json(grant_view(&g)))
}

/// The worker's live grants, newest first.
pub async fn grants(
    state: web::Data<AppState>,
    principal: Principal,
    q: Query<pagination::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let rows = db::run(&state.pool, move |conn| {
        Ok::<_, ApiError>(grants::of_user(conn, &principal.user_id)?)
    })
    .await?;
    let items: Vec<_> = rows.iter().map(grant_view).collect();
    Ok(HttpResponse::Ok().json(pagination::page_in_memory(
        items,
        &q,
        true,
        pagination::json_key("id"),
        pagination::is_uuid,
    )?))
}

pub async fn revoke_grant(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<GrantId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    db::transaction(&state.pool, move |conn| {
        Ok::<_, ApiError>(app::revoke_grant(conn, &principal.user_id, &id, now())?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
