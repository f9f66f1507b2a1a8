//! The signed-in account: `GET /me`, `PATCH /me`.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Deserializer, Serialize};

use crate::auth::Principal;
use crate::db::{self, DbConnection};
use crate::domain::ids::{ApplicationId, UnionId, UserId};
use crate::domain::membership;
use crate::domain::now;
use crate::domain::profile::{bounded_text, Occupation, PersonName, RegionCode};
use crate::domain::users::{self, AccountView, ProfileChanges};
use crate::domain::utc;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct MembershipView {
    status: &'static str,
    union_id: Option<UnionId>,
    member_no: Option<String>,
    since: Option<chrono::DateTime<chrono::Utc>>,
    /// A pending join, or a pending transfer of a member.
    pending_application_id: Option<ApplicationId>,
}

fn membership_view(conn: &mut DbConnection, user: &UserId) -> Result<MembershipView, ApiError> {
    let active = membership::active(conn, user)?;
    let pending = membership::pending(conn, user)?;
    let pending_application_id = pending.as_ref().map(|a| a.id.clone());
    Ok(match (active, pending) {
        (Some(m), _) => MembershipView {
            status: "member",
            union_id: Some(m.union_id),
            member_no: Some(m.member_no),
            since: Some(utc(m.since)),
            pending_application_id,
        },
        (None, Some(app)) => MembershipView {
            status: "pending",
            union_id: Some(app.union_id),
            member_no: None,
            since: None,
            pending_application_id,
        },
        (None, None) => MembershipView {
            status: "none",
            union_id: None,
            member_no: None,
            since: None,
            pending_application_id,
        },
    })
}

#[derive(Debug, Serialize)]
pub struct MeView {
    #[serde(flatten)]
    account: AccountView,
    membership: MembershipView,
}

async fn load(state: &AppState, principal: &Principal) -> Result<MeView, ApiError> {
    let id = principal.user_id.clone();
    db::run(&state.pool, move |conn| {
        let user = users::find(conn, &id)?.ok_or(ErrorCode::NotFound)?;
        Ok(MeView {
            account: AccountView::from(&user),
            membership: membership_view(conn, &id)?,
        })
    })
    .await
}

pub async fn show(state: web::Data<AppState>, principal: Principal) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(load(&state, &principal).await?))
}

/// Tells "absent" (leave alone) from `null` (clear).
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateMe {
    #[serde(default)]
    name: Option<PersonName>,
    #[serde(default, deserialize_with = "present")]
    occupation: Option<Option<Occupation>>,
    #[serde(default, deserialize_with = "present")]
    region_code: Option<Option<RegionCode>>,
    #[serde(default, deserialize_with = "present")]
    employer: Option<Option<String>>,
}

pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<UpdateMe>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let employer = match body.employer {
        Some(Some(raw)) => {
            Some(Some(bounded_text(&raw, 100).ok_or_else(|| {
                ApiError::invalid("employer must be 1-100 characters")
            })?))
        }
        other => other,
    };
    let changes = ProfileChanges {
        name: body.name.map(PersonName::into_string),
        region_code: body.region_code.map(|r| r.map(RegionCode::into_string)),
        employer,
    };
    let occupation = body.occupation.map(|o| o.map(|o| o.as_str().to_owned()));
    let id = principal.user_id.clone();
    db::run(&state.pool, move |conn| {
        Ok(db::write_tx(conn, |conn| {
            users::update_profile(conn, &id, &changes, occupation, now())
        })?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(load(&state, &principal).await?))
}
