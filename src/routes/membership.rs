//! Joining and transferring: the worker's side and the counter's on-site join.
//! The admin's side is in `applications`.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::auth::scope::CounterScope;
use crate::auth::Principal;
use crate::db::schema::users;
use crate::db::{self, DbConnection};
use crate::domain::ids::{ApplicationId, StationId, UnionId, UserId};
use crate::domain::membership::{self as ms, Application, Kind, Membership, MembershipError, Submission};
use crate::domain::phone::{mask_name, Phone};
use crate::domain::profile::Role;
use crate::domain::{now, utc};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

impl From<MembershipError> for ApiError {
    fn from(e: MembershipError) -> Self {
        match e {
            MembershipError::AlreadyMember => ErrorCode::AlreadyMember.into(),
            MembershipError::ApplicationPending => ErrorCode::ApplicationPending.into(),
            MembershipError::NotAMember => ErrorCode::NotAMember.into(),
            MembershipError::NotPending => ErrorCode::ApplicationNotPending.into(),
            MembershipError::Database(e) => e.into(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct MembershipSummary {
    union_id: UnionId,
    member_no: String,
    since: DateTime<Utc>,
}

impl From<Membership> for MembershipSummary {
    fn from(m: Membership) -> Self {
        Self {
            union_id: m.union_id,
            member_no: m.member_no,
            since: utc(m.since),
        }
    }
}

/// An application as staff and its applicant see it: personal data masked.
#[derive(Debug, Serialize)]
pub struct ApplicationView {
    pub(super) id: ApplicationId,
    kind: String,
    status: String,
    union_id: UnionId,
    applicant: Applicant,
    submitted_via: &'static str,
    station_id: Option<StationId>,
    reason: Option<String>,
    decided_by: Option<UserId>,
    decided_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    membership: Option<MembershipSummary>,
}

#[derive(Debug, Serialize)]
struct Applicant {
    id: UserId,
    name_masked: String,
    phone_masked: String,
    occupation: Option<String>,
}

pub(super) fn view(conn: &mut DbConnection, app: Application) -> Result<ApplicationView, ApiError> {
    let (name, phone, occupation): (String, Phone, Option<String>) = users::table
        .find(&app.user_id)
        .select((users::name, users::phone, users::occupation))
        .first(conn)?;
    let membership = match &app.membership_id {
        Some(id) => ms::find_membership(conn, id)?.map(MembershipSummary::from),
        None => None,
    };
    Ok(ApplicationView {
        submitted_via: if app.submitted_by == app.user_id {
            "app"
        } else {
            "counter"
        },
        applicant: Applicant {
            id: app.user_id,
            name_masked: mask_name(&name),
            phone_masked: phone.masked(),
            occupation,
        },
        id: app.id,
        kind: app.kind,
        status: app.status,
        union_id: app.union_id,
        station_id: app.station_id,
        reason: app.reason,
        decided_by: app.decided_by,
        decided_at: app.decided_at.map(utc),
        created_at: utc(app.created_at),
        membership,
    })
}

fn union_exists(conn: &mut DbConnection, id: &UnionId) -> Result<(), ApiError> {
    crate::domain::org::find_union(conn, id)?
        .map(|_| ())
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound).with_detail("no such union"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Apply {
    union_id: UnionId,
}

/// A worker's own application to `union`.
async fn submit_own(
    state: &AppState,
    principal: Principal,
    union: UnionId,
    kind: Kind,
) -> Result<HttpResponse, ApiError> {
    principal.require(&[Role::Worker])?;
    let view = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            union_exists(conn, &union)?;
            let me = &principal.user_id;
            let s = Submission {
                kind,
                user: me,
                union: &union,
                submitted_by: me,
                station: None,
            };
            let app = ms::submit(conn, s, now())?;
            view(conn, app)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// The worker's own applications (join and transfer), newest first, so a rejected
/// applicant sees why.
pub async fn mine(
    state: web::Data<AppState>,
    principal: Principal,
    q: web::Query<super::pagination::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = super::pagination::limit(q.limit)?;
    let before = super::pagination::cursor(q.cursor.as_deref(), ApplicationId::parse)?;
    let views = db::run(&state.pool, move |conn| {
        let rows = ms::of_user(conn, &principal.user_id, before.as_ref(), limit + 1)?;
        rows.into_iter()
            .map(|a| view(conn, a))
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    Ok(
        HttpResponse::Ok().json(super::pagination::page(views, limit, |v: &ApplicationView| {
            v.id.to_string()
        })),
    )
}

pub async fn apply(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<Apply>,
) -> Result<HttpResponse, ApiError> {
    submit_own(&state, principal, body.into_inner().union_id, Kind::Join).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    to_union_id: UnionId,
}

pub async fn transfer(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<Transfer>,
) -> Result<HttpResponse, ApiError> {
    submit_own(&state, principal, body.into_inner().to_union_id, Kind::Transfer).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnSite {
    phone: Phone,
    union_id: UnionId,
    #[serde(default)]
    station_id: Option<StationId>,
}

/// On-site join at a station: the counter files it for a registered worker; where the
/// station's union allows it, it is approved at once by the same counter.
pub async fn onsite(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<OnSite>,
) -> Result<HttpResponse, ApiError> {
    principal.require(&[Role::Counter])?;
    let body = body.into_inner();
    let view = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let scope = CounterScope::load(conn, &principal)?;
            let at_own_station = body.station_id.as_ref().is_none_or(|s| {
                scope
                    .stations
                    .iter()
                    .any(|(id, union, _)| id == s && union == &body.union_id)
            });
            if !scope.serves_union(&body.union_id) || !at_own_station {
                return Err(ErrorCode::Forbidden.into());
            }
            let worker = crate::domain::users::find_by_phone(conn, &body.phone)?
                .filter(|u| u.role() == Role::Worker)
                .ok_or_else(|| {
                    ApiError::new(ErrorCode::NotFound).with_detail("no worker registered with that phone")
                })?;
            let union = crate::domain::org::find_union(conn, &body.union_id)?.ok_or(ErrorCode::NotFound)?;
            let s = Submission {
                kind: Kind::Join,
                user: &worker.id,
                union: &union.id,
                submitted_by: &scope.user,
                station: body.station_id.as_ref(),
            };
            let app = ms::submit(conn, s, now())?;
            if union.onsite_auto_approve {
                ms::approve(conn, &app, &scope.user, now())?;
            }
            let app = ms::find(conn, &app.id)?.ok_or(ErrorCode::NotFound)?;
            view(conn, app)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}
