//! Unions, stations and staff accounts; the public directory.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::auth::scope::AdminScope;
use crate::auth::Principal;
use crate::db;
use crate::domain::ids::{StationId, UnionId};
use crate::domain::now;
use crate::domain::org::{self, NewStation, NewUnion, UnionKind, UnionView};
use crate::domain::phone::Phone;
use crate::domain::profile::{bounded_text, Password, PersonName, RegionCode, Role};
use crate::domain::users::{self, CreateUserError, NewUser};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUnion {
    name: PersonName,
    #[serde(default)]
    parent_id: Option<UnionId>,
    region_code: RegionCode,
    #[serde(default)]
    kind: Option<UnionKind>,
    #[serde(default)]
    onsite_auto_approve: bool,
}

pub async fn create_union(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<CreateUnion>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let created = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let scope = AdminScope::load(conn, &principal)?;
            let parent = match &body.parent_id {
                Some(id) => Some(scope.union_in_scope(conn, id)?),
                // Only a platform admin may plant a new root.
                None if matches!(scope, AdminScope::Platform { .. }) => None,
                None => return Err(ApiError::invalid("parent_id is required")),
            };
            let region = body.region_code.as_str();
            if let Some(p) = parent.as_ref().filter(|p| p.kind != "national") {
                if !region.starts_with(org::region_prefix(&p.region_code)) {
                    return Err(ApiError::invalid(
                        "region_code must lie within the parent union's region",
                    ));
                }
            }
            let kind = body
                .kind
                .unwrap_or_else(|| UnionKind::infer(region, parent.as_ref()));
            let new = NewUnion {
                name: body.name.into_string(),
                parent: parent.as_ref(),
                kind,
                region_code: region.to_owned(),
                onsite_auto_approve: body.onsite_auto_approve,
                created_by: scope.user(),
            };
            Ok(org::create_union(conn, new, now())?)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(UnionView::from(created)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateStation {
    union_id: UnionId,
    name: PersonName,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    lat: Option<f64>,
    #[serde(default)]
    lng: Option<f64>,
    #[serde(default)]
    open_24h: bool,
    #[serde(default)]
    opening_hours: Option<String>,
}

fn optional_text(raw: Option<String>, field: &str, max: usize) -> Result<Option<String>, ApiError> {
    raw.map(|t| {
        bounded_text(&t, max).ok_or_else(|| ApiError::invalid(format!("{field} must be 1-{max} characters")))
    })
    .transpose()
}

pub async fn create_station(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<CreateStation>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if body.lat.is_some_and(|v| !(-90.0..=90.0).contains(&v))
        || body.lng.is_some_and(|v| !(-180.0..=180.0).contains(&v))
    {
        return Err(ApiError::invalid("lat must be within ±90 and lng within ±180"));
    }
    if body.lat.is_some() != body.lng.is_some() {
        return Err(ApiError::invalid("lat and lng go together"));
    }
    let new = NewStation {
        id: StationId::generate(),
        union_id: body.union_id,
        name: body.name.into_string(),
        address: optional_text(body.address, "address", 200)?,
        lat: body.lat,
        lng: body.lng,
        open_24h: body.open_24h,
        opening_hours: optional_text(body.opening_hours, "opening_hours", 100)?,
        created_at: now(),
    };
    let station = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            AdminScope::load(conn, &principal)?.union_in_scope(conn, &new.union_id)?;
            Ok(org::create_station(conn, &new)?)
        })
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

#[derive(Debug, Serialize)]
struct StaffView {
    id: crate::domain::ids::UserId,
    phone_masked: String,
    name: String,
    role: Role,
    union_id: UnionId,
    station_ids: Vec<StationId>,
}

pub async fn create_staff(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<CreateStaff>,
) -> Result<HttpResponse, ApiError> {
    principal.require(crate::auth::scope::ADMIN_ROLES)?;
    let body = body.into_inner();
    match body.role {
        Role::Counter if body.station_ids.is_empty() => {
            return Err(ApiError::invalid(
                "station_ids: a counter needs at least one station",
            ))
        }
        Role::Counter => {}
        Role::UnionAdmin if body.station_ids.is_empty() => {}
        Role::UnionAdmin => {
            return Err(ApiError::invalid(
                "station_ids: only counters are bound to stations",
            ))
        }
        _ => return Err(ApiError::invalid("role must be counter or union_admin")),
    }
    let hash = state.hasher.hash(body.password.expose().to_owned()).await?;
    let mut user = NewUser::new(body.phone, hash, body.name.into_string(), body.role, now());
    user.union_id = Some(body.union_id.clone());
    let view = StaffView {
        id: user.id.clone(),
        phone_masked: user.phone.masked(),
        name: user.name.clone(),
        role: body.role,
        union_id: body.union_id.clone(),
        station_ids: body.station_ids.clone(),
    };
    db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let union = AdminScope::load(conn, &principal)?.union_in_scope(conn, &body.union_id)?;
            super::campaign_views::stations_under(conn, &union.path, &body.station_ids)?;
            users::create(conn, &user).map_err(|e| match e {
                CreateUserError::PhoneTaken => ApiError::new(ErrorCode::PhoneTaken),
                CreateUserError::Database(e) => e.into(),
            })?;
            Ok(org::bind_stations(conn, &user.id, &body.station_ids)?)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}
