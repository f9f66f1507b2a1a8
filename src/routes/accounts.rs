//! Register, sign in, refresh, sign out.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::app::accounts::{self, Registration};
use crate::auth::jwt::ACCESS_TOKEN_TTL_SECS;
use crate::auth::sessions;
use crate::db;
use crate::domain::ids::{SessionId, UserId};
use crate::domain::now;
use crate::domain::phone::Phone;
use crate::domain::profile::Role;
use crate::domain::users;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::views::accounts::AccountView;

pub async fn register(
    state: web::Data<AppState>,
    body: web::Json<Registration>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let password_hash = state.hasher.hash(body.password.expose().to_owned()).await?;
    let user = db::transaction(&state.pool, move |conn| {
        Ok::<_, ApiError>(accounts::register(conn, body, password_hash, now())?)
    })
    .await?;
    Ok(HttpResponse::Created().json(AccountView::from(&user)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    phone: Phone,
    password: String,
}

#[derive(Debug, Serialize)]
pub struct TokenPair {
    access_token: String,
    refresh_token: String,
    token_type: &'static str,
    expires_in: i64,
}

fn token_pair(
    state: &AppState,
    user: &UserId,
    role: Role,
    session: &SessionId,
    refresh_token: String,
) -> Result<TokenPair, ApiError> {
    Ok(TokenPair {
        access_token: state.jwt.issue(user, role, session).map_err(ApiError::internal)?,
        refresh_token,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_TTL_SECS,
    })
}

/// Rate-limit keys never hold a phone number in the clear.
fn login_limit_key(phone: &Phone) -> String {
    let digest = Sha256::digest(phone.as_str().as_bytes());
    format!("rl:login:{}", hex::encode(&digest[..12]))
}

pub async fn login(state: web::Data<AppState>, body: web::Json<LoginBody>) -> Result<HttpResponse, ApiError> {
    let LoginBody { phone, password } = body.into_inner();
    let limit_key = login_limit_key(&phone);
    // Every attempt counts, so concurrent guesses can't slip past a read-then-write check.
    // While Redis is unreachable the counting is per instance (see `locks`).
    match state.locks.hit(&limit_key, state.limits.login_window).await {
        Ok(hits) if hits.count > state.limits.login_max_attempts => {
            return Err(ApiError::new(ErrorCode::RateLimited).retry_after(hits.resets_in.as_secs()));
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "login rate limiter unavailable"),
    }
    let user = db::run(&state.pool, move |conn| {
        Ok::<_, ApiError>(users::find_by_phone(conn, &phone)?)
    })
    .await?;
    let matched = state
        .hasher
        .verify(user.as_ref().map(|u| u.password_hash.clone()), password)
        .await?;
    let Some(user) = user.filter(|_| matched) else {
        return Err(ErrorCode::InvalidCredentials.into());
    };
    if let Err(e) = state.locks.clear(&limit_key).await {
        tracing::warn!(error = %e, "could not reset the login limiter");
    }
    let user_id = user.id.clone();
    let (session, refresh_token) = db::transaction(&state.pool, move |conn| {
        Ok::<_, ApiError>(sessions::start(conn, &user_id, now())?)
    })
    .await?;
    let pair = token_pair(&state, &user.id, user.role, &session, refresh_token)?;
    Ok(HttpResponse::Ok().json(pair))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    refresh_token: String,
}

pub async fn refresh(
    state: web::Data<AppState>,
    body: web::Json<RefreshBody>,
) -> Result<HttpResponse, ApiError> {
    let presented = body.into_inner().refresh_token;
    let grace = chrono::Duration::from_std(state.limits.refresh_retry_grace).map_err(ApiError::internal)?;
    // A refusal still commits: presenting a used token revokes the session.
    let rotated = db::transaction(&state.pool, move |conn| {
        Ok::<_, ApiError>(sessions::rotate(conn, &presented, now(), grace)?)
    })
    .await??;
    let pair = token_pair(
        &state,
        &rotated.user,
        rotated.role,
        &rotated.session,
        rotated.refresh_token,
    )?;
    Ok(HttpResponse::Ok().json(pair))
}

/// Ends the session the refresh token belongs to. Always 204, so it is safe to retry and
/// tells nothing about tokens that do not exist.
pub async fn logout(
    state: web::Data<AppState>,
    body: web::Json<RefreshBody>,
) -> Result<HttpResponse, ApiError> {
    let presented = body.into_inner().refresh_token;
    db::transaction(&state.pool, move |conn| {
        Ok::<_, ApiError>(sessions::revoke_by_token(conn, &presented, now())?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
