//! Register, sign in, refresh, sign out.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::jwt::ACCESS_TOKEN_TTL_SECS;
use crate::auth::sessions::{self, Rotation};
use crate::db;
use crate::domain::ids::{SessionId, UserId};
use crate::domain::now;
use crate::domain::phone::Phone;
use crate::domain::profile::{Occupation, Password, PersonName, RegionCode, Role};
use crate::domain::users::{self, AccountView, CreateUserError, NewUser};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    phone: Phone,
    password: Password,
    name: PersonName,
    #[serde(default)]
    occupation: Option<Occupation>,
    #[serde(default)]
    region_code: Option<RegionCode>,
}

pub async fn register(
    state: web::Data<AppState>,
    body: web::Json<RegisterBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let password_hash = state.hasher.hash(body.password.expose().to_owned()).await?;
    let mut user = NewUser::new(
        body.phone,
        password_hash,
        body.name.into_string(),
        Role::Worker,
        now(),
    );
    user.occupation = body.occupation.map(|o| o.as_str().to_owned());
    user.region_code = body.region_code.map(RegionCode::into_string);
    let view = db::run(&state.pool, move |conn| {
        users::create(conn, &user).map_err(|e| match e {
            CreateUserError::PhoneTaken => ApiError::new(ErrorCode::PhoneTaken),
            CreateUserError::Database(e) => e.into(),
        })?;
        let stored = users::find(conn, &user.id)?.ok_or_else(|| ApiError::internal("new user vanished"))?;
        Ok(AccountView::from(&stored))
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
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
    let user = db::run(&state.pool, move |conn| Ok(users::find_by_phone(conn, &phone)?)).await?;
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
    let (session, refresh_token) = db::run(&state.pool, move |conn| {
        Ok(db::write_tx(conn, |conn| sessions::start(conn, &user_id, now()))?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(token_pair(
        &state,
        &user.id,
        user.role(),
        &session,
        refresh_token,
    )?))
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
    let rotation = db::run(&state.pool, move |conn| {
        Ok(db::write_tx(conn, |conn| {
            sessions::rotate(conn, &presented, now(), grace)
        })?)
    })
    .await?;
    match rotation {
        Rotation::Rotated {
            user,
            role,
            session,
            refresh_token,
        } => Ok(HttpResponse::Ok().json(token_pair(&state, &user, role, &session, refresh_token)?)),
        Rotation::Reused => Err(ErrorCode::RefreshTokenReused.into()),
        Rotation::Expired => Err(ErrorCode::TokenExpired.into()),
        Rotation::Revoked => Err(ErrorCode::TokenRevoked.into()),
        Rotation::Unknown => Err(ErrorCode::TokenInvalid.into()),
    }
}

/// Ends the session the refresh token belongs to. Always 204, so it is safe to retry and
/// tells nothing about tokens that do not exist.
pub async fn logout(
    state: web::Data<AppState>,
    body: web::Json<RefreshBody>,
) -> Result<HttpResponse, ApiError> {
    let presented = body.into_inner().refresh_token;
    db::run(&state.pool, move |conn| {
        Ok(db::write_tx(conn, |conn| {
            sessions::revoke_by_token(conn, &presented, now())
        })?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
