//! The union tree as admins grow it: unions, stations and staff accounts.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::campaign_checks::{stations_under, StationsRefusal};
use super::changes;
use crate::auth::scope::{AdminScope, ScopeError};
use crate::db::DbConnection;
use crate::domain::ids::{StationId, UnionId};
use crate::domain::invalid::Invalid;
use crate::domain::org::{self, NewStation, NewUnion, Station, Union, UnionKind};
use crate::domain::profile::{PersonName, RegionCode, Role};
use crate::domain::users::{self, CreateUserError, NewUser};

/// Why an organisation write is refused.
#[derive(Debug, thiserror::Error)]
pub enum OrgRefusal {
    /// A value out of bounds; the message names the field.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("that phone is already registered")]
    PhoneTaken,
    /// A union admin asked for a national, province or city union (platform admins
    /// plant those), or a level above its parent's.
    #[error("union level not allowed: {0}")]
    LevelNotAllowed(&'static str),
    #[error(transparent)]
    Scope(#[from] ScopeError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl From<CreateUserError> for OrgRefusal {
    fn from(e: CreateUserError) -> Self {
        match e {
            CreateUserError::PhoneTaken => Self::PhoneTaken,
            CreateUserError::Database(e) => Self::Database(e),
        }
    }
}

impl From<StationsRefusal> for OrgRefusal {
    fn from(e: StationsRefusal) -> Self {
        match e {
            StationsRefusal::NotUnder(..) | StationsRefusal::Repeated(_) => Self::Invalid(e.invalid()),
            StationsRefusal::Database(e) => Self::Database(e),
        }
    }
}

type Refused<T> = Result<T, OrgRefusal>;

fn invalid(field: &str, message: impl Into<String>) -> OrgRefusal {
    OrgRefusal::Invalid(Invalid::new(field, message))
}

/// `POST /admin/unions`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUnion {
    pub name: PersonName,
    #[serde(default)]
    pub parent_id: Option<UnionId>,
    pub region_code: RegionCode,
    #[serde(default)]
    pub kind: Option<UnionKind>,
    #[serde(default)]
    pub onsite_auto_approve: bool,
}

/// A union under one of the admin's scope (only a platform admin plants a root); its
/// region lies within its parent's. Call inside a write transaction.
pub fn create_union(
    conn: &mut DbConnection,
    scope: &AdminScope,
    b: &CreateUnion,
    now: NaiveDateTime,
) -> Refused<Union> {
    let parent = match &b.parent_id {
        Some(id) => Some(scope.union(conn, id)?),
        None if matches!(scope, AdminScope::Platform { .. }) => None,
        None => return Err(invalid("parent_id", "请选择上级工会")),
    };
    let region = b.region_code.as_str();
    if let Some(p) = &parent {
        if !org::region_covers(p, region) {
            return Err(invalid("region_code", "地区须在上级工会的地区之内"));
        }
    }
    let kind = b
        .kind
        .unwrap_or_else(|| UnionKind::infer(region, parent.as_ref()));
    // Who may plant which level is decided by the caller's role, never by the kind of
    // anything already in the tree.
    let upper = matches!(kind, UnionKind::National | UnionKind::Province | UnionKind::City);
    if upper && !matches!(scope, AdminScope::Platform { .. }) {
        return Err(OrgRefusal::LevelNotAllowed(
            "全国、省、市级工会由平台管理员创建；您可以创建区县级和基层工会",
        ));
    }
    if parent.as_ref().is_some_and(|p| !kind.may_sit_under(p.kind)) {
        return Err(OrgRefusal::LevelNotAllowed("下级工会的层级不能高于上级工会"));
    }
    let new = NewUnion {
        name: b.name.clone().into_string(),
        parent: parent.as_ref(),
        kind,
        region_code: region.to_owned(),
        onsite_auto_approve: b.onsite_auto_approve,
        created_by: scope.user(),
    };
    let union = org::create_union(conn, new, now)?;
    let data = serde_json::json!({"parent_id": union.parent_id, "region_code": union.region_code});
    let actor = Some(scope.user().as_str());
    changes::audited(
        conn,
        actor,
        "union.created",
        ("union", union.id.as_str()),
        Some(&union.id),
        data,
        now,
    )?;
    Ok(union)
}

/// `POST /admin/stations`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CreateStation {
    pub union_id: UnionId,
    pub name: PersonName,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lng: Option<f64>,
    #[serde(default)]
    pub open_24h: bool,
    #[serde(default)]
    pub opening_hours: Option<String>,
}

fn optional_text(raw: Option<&str>, field: &str, max: usize) -> Refused<Option<String>> {
    raw.map(|t| super::text(t, field, max).map_err(OrgRefusal::from))
        .transpose()
}

/// A station of a union in the admin's scope. Call inside a write transaction.
pub fn create_station(
    conn: &mut DbConnection,
    scope: &AdminScope,
    b: &CreateStation,
    now: NaiveDateTime,
) -> Refused<Station> {
    org::position(b.lat, b.lng)?;
    let new = NewStation {
        id: StationId::generate(),
        union_id: b.union_id.clone(),
        name: b.name.clone().into_string(),
        address: optional_text(b.address.as_deref(), "address", 200)?,
        lat: b.lat,
        lng: b.lng,
        open_24h: b.open_24h,
        opening_hours: optional_text(b.opening_hours.as_deref(), "opening_hours", 100)?,
        created_at: now,
    };
    scope.union(conn, &new.union_id)?;
    let station = org::create_station(conn, &new)?;
    let actor = Some(scope.user().as_str());
    let subject = ("station", station.id.as_str());
    changes::audited(
        conn,
        actor,
        "station.created",
        subject,
        Some(&new.union_id),
        serde_json::json!({}),
        now,
    )?;
    Ok(station)
}

/// Only counters are bound to stations, and each needs at least one; only counters and
/// union admins are created here. Checked before the password is hashed.
pub fn check_staff_role(role: Role, stations: &[StationId]) -> Refused<()> {
    match role {
        Role::Counter if stations.is_empty() => Err(invalid("station_ids", "柜台账号至少要绑定一个驿站")),
        Role::UnionAdmin if !stations.is_empty() => Err(invalid("station_ids", "只有柜台账号可以绑定驿站")),
        Role::Counter | Role::UnionAdmin => Ok(()),
        Role::Worker | Role::PlatformAdmin => Err(invalid(
            "role",
            "角色只能是 counter（柜台）或 union_admin（工会管理员）",
        )),
    }
}

/// A staff account of a union in the admin's scope, bound to stations under it.
/// `user.union_id` names the union. Call inside a write transaction.
pub fn create_staff(
    conn: &mut DbConnection,
    scope: &AdminScope,
    user: &NewUser,
    stations: &[StationId],
) -> Refused<()> {
    check_staff_role(user.role, stations)?;
    let union_id = user
        .union_id
        .as_ref()
        .ok_or_else(|| invalid("union_id", "请选择所属工会"))?;
    let union = scope.union(conn, union_id)?;
    stations_under(conn, &union.path, stations)?;
    users::create(conn, user)?;
    org::bind_stations(conn, &user.id, stations)?;
    let data = serde_json::json!({"role": user.role, "station_ids": stations});
    let actor = Some(scope.user().as_str());
    let subject = ("user", user.id.as_str());
    Ok(changes::audited(
        conn,
        actor,
        "staff.created",
        subject,
        Some(&union.id),
        data,
        user.created_at,
    )?)
}
