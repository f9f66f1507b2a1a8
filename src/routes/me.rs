//! The signed-in account: `GET /me`, `PATCH /me`.

use actix_web::{web, HttpResponse};

use crate::app::accounts::{self, ProfileEdit};
use crate::auth::Principal;
use crate::db;
use crate::domain::now;
use crate::domain::users;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::views::accounts::{AccountView, MeView};
use crate::views::membership;

async fn load(state: &AppState, principal: &Principal) -> Result<MeView, ApiError> {
    let id = principal.user_id.clone();
    db::run(&state.pool, move |conn| {
        let user = users::find(conn, &id)?.ok_or(ErrorCode::NotFound)?;
        Ok(MeView {
            account: AccountView::from(&user),
            membership: membership::standing(conn, &id)?,
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
    body: web::Json<ProfileEdit>,
) -> Result<HttpResponse, ApiError> {
    let (edit, id) = (body.into_inner(), principal.user_id.clone());
    db::transaction(&state.pool, move |conn| {
        Ok::<_, ApiError>(accounts::update_profile(conn, &id, edit, now())?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(load(&state, &principal).await?))
}
