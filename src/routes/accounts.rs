//! Register, sign in, refresh, sign out.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

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
use crate::http::json::Json;
use crate::http::throttle;
use crate::state::AppState;
use crate::views::accounts::AccountView;

pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<Registration>,
) -> Result<HttpResponse, ApiError> {
    throttle::auth_budget(&state, &req).await?;
    let body = body.into_inner();
    let password_hash = state.hasher.hash(body.password.expose().to_owned()).await?;
    let keys = state.voucher_keys.clone();
    let user = db::transaction(&state.pool, move |conn| {
        Ok::<_, ApiError>(accounts::register(conn, &keys, body, password_hash, now())?)
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
    /// True after an admin's reset: only `POST /me/password` answers until it is changed.
    password_change_required: bool,
}

fn token_pair(
    state: &AppState,
    user: &UserId,
    role: Role,
    session: &SessionId,
    refresh_token: String,
    password_change_required: bool,
) -> Result<TokenPair, ApiError> {
    Ok(TokenPair {
        access_token: state.jwt.issue(user, role, session).map_err(ApiError::internal)?,
        refresh_token,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_TTL_SECS,
        password_change_required,
    })
}

/// Budgets first (address, everyone, then this phone from this address and from all),
/// so no flood reaches the password hash; see `http::throttle`.
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    let ip = throttle::auth_budget(&state, &req).await?;
    let LoginBody { phone, password } = body.into_inner();
    let attempt = throttle::login_attempt(&state, &phone, ip).await?;
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
    throttle::login_succeeded(&state, attempt).await;
    // Told only to whoever knows the password.
    if user.disabled_at.is_some() {
        return Err(ErrorCode::AccountDisabled.into());
    }
    let user_id = user.id.clone();
    let idle = session_policy(&state)?.idle;
    let (session, refresh_token) = db::transaction(&state.pool, move |conn| {
        Ok::<_, ApiError>(sessions::start(conn, &user_id, now(), idle)?)
    })
    .await?;
    let pair = token_pair(
        &state,
        &user.id,
        user.role,
        &session,
        refresh_token,
        user.password_change_required,
    )?;
    Ok(HttpResponse::Ok().json(pair))
}

fn session_policy(state: &AppState) -> Result<sessions::SessionPolicy, ApiError> {
    let d = |std| chrono::Duration::from_std(std).map_err(ApiError::internal);
    Ok(sessions::SessionPolicy {
        retry_grace: d(state.limits.refresh_retry_grace)?,
        idle: d(state.limits.session_idle)?,
        absolute: d(state.limits.session_absolute)?,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    refresh_token: String,
}

pub async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<RefreshBody>,
) -> Result<HttpResponse, ApiError> {
    throttle::refresh_budget(&state, &req).await?;
    let presented = body.into_inner().refresh_token;
    let policy = session_policy(&state)?;
    // A refusal still commits: presenting a used token revokes the session.
    let rotated = db::transaction(&state.pool, move |conn| {
        Ok::<_, ApiError>(sessions::rotate(conn, &presented, now(), policy)?)
    })
    .await??;
    let pair = token_pair(
        &state,
        &rotated.user,
        rotated.role,
        &rotated.session,
        rotated.refresh_token,
        rotated.password_change_required,
    )?;
    Ok(HttpResponse::Ok().json(pair))
}

/// Ends the session the refresh token belongs to. Always 204, so it is safe to retry and
/// tells nothing about tokens that do not exist.
pub async fn logout(state: web::Data<AppState>, body: Json<RefreshBody>) -> Result<HttpResponse, ApiError> {
    let presented = body.into_inner().refresh_token;
    db::transaction(&state.pool, move |conn| {
        Ok::<_, ApiError>(sessions::revoke_by_token(conn, &presented, now())?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
