//! Unions, stations and staff accounts.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::app::org::{self as app, CreateStation, CreateUnion};
use crate::auth::scope::{AdminScope, ADMIN_ROLES};
use crate::auth::Principal;
use crate::db;
use crate::domain::ids::{StationId, UnionId};
use crate::domain::now;
use crate::domain::phone::Phone;
use crate::domain::profile::{Password, PersonName, Role};
use crate::domain::users::NewUser;
use crate::error::ApiError;
use crate::http::json::Json;
use crate::state::AppState;
use crate::views::{accounts::staff, org::UnionView};

pub async fn create_union(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<CreateUnion>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let created = db::transaction(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        Ok::<_, ApiError>(app::create_union(conn, &scope, &body, now())?)
    })
    .await?;
    Ok(HttpResponse::Created().json(UnionView::from(created)))
}

pub async fn create_station(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<CreateStation>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let station = db::transaction(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        Ok::<_, ApiError>(app::create_station(conn, &scope, &body, now())?)
    })
    .await?;
    Ok(HttpResponse::Created().json(station))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateStaff {
    phone: Phone,
    password: Password,
    name: PersonName,
    role: Role,
    union_id: UnionId,
    #[serde(default)]
    station_ids: Vec<StationId>,
}

pub async fn create_staff(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<CreateStaff>,
) -> Result<HttpResponse, ApiError> {
    principal.require(ADMIN_ROLES)?;
    let body = body.into_inner();
    // Refuse a bad role before paying for a password hash.
    app::check_staff_role(body.role, &body.station_ids)?;
    let hash = state.hasher.hash(body.password.expose().to_owned()).await?;
    let mut user = NewUser::new(body.phone, hash, body.name.into_string(), body.role, now());
    user.union_id = Some(body.union_id);
    let view = staff(&user, &body.station_ids);
    db::transaction(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        Ok::<_, ApiError>(app::create_staff(conn, &scope, &user, &body.station_ids)?)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}
