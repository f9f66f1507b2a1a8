//! The signed-in account: `GET /me`, `PATCH /me`, and a worker's join codes.

use actix_web::{web, HttpResponse};

use crate::app::accounts::{self, ProfileEdit};
use crate::auth::Principal;
use crate::db;
use crate::domain::profile::Role;
use crate::domain::{join_codes, org, users};
use crate::domain::{now, utc};
use crate::error::{ApiError, ErrorCode};
use crate::http::json::Json;
use crate::state::AppState;
use crate::views::accounts::{AccountView, MeView, NamedRef, StationRef};
use crate::views::membership;

async fn load(state: &AppState, principal: &Principal) -> Result<MeView, ApiError> {
    let id = principal.user_id.clone();
    db::run(&state.pool, move |conn| {
        let user = users::find(conn, &id)?.ok_or(ErrorCode::NotFound)?;
        let union = org::union_of_staff(conn, &id)?.map(|(id, name)| NamedRef { id, name });
        let stations = if user.role == Role::Counter {
            let rows = org::named_stations_of_staff(conn, &id)?;
            Some(
                rows.into_iter()
                    .map(|(id, name, union_id)| StationRef { id, name, union_id })
                    .collect(),
            )
        } else {
            None
        };
        Ok(MeView {
            account: AccountView::from(&user),
            membership: membership::standing(conn, &id)?,
            occupation_verified_by: crate::domain::attestations::verified_by(conn, &id)?,
            union,
            stations,
        })
    })
    .await
}

pub async fn show(state: web::Data<AppState>, principal: Principal) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(load(&state, &principal).await?))
}

pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<ProfileEdit>,
) -> Result<HttpResponse, ApiError> {
    let (edit, id) = (body.into_inner(), principal.user_id.clone());
    db::transaction(&state.pool, move |conn| {
        Ok::<_, ApiError>(accounts::update_profile(conn, &id, edit, now())?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(load(&state, &principal).await?))
}

/// `POST /me/join-codes`: 8 digits the worker shows a counter to consent to an on-site
/// join; valid ten minutes, one use.
pub async fn join_code(state: web::Data<AppState>, principal: Principal) -> Result<HttpResponse, ApiError> {
    principal.require(&[Role::Worker])?;
    let keys = state.voucher_keys.clone();
    let (code, expires_at) = db::transaction(&state.pool, move |conn| {
        Ok::<_, ApiError>(join_codes::issue(conn, &keys, &principal.user_id, now())?)
    })
    .await?;
    Ok(HttpResponse::Created().json(serde_json::json!({"code": code, "expires_at": utc(expires_at)})))
}
