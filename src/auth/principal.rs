//! The `Principal` extractor: a verified access token whose session is still live.

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use super::jwt::JwtKeys;
use super::jwt::TokenError;
use super::session_cache::SessionCache;
use super::sessions::{self, SessionState};
use crate::db;
use crate::db::DbPool;
use crate::domain::ids::{SessionId, UserId};
use crate::domain::profile::Role;
use crate::error::{ApiError, ErrorCode};
use crate::metrics::Outcome;

/// What the `Principal` extractor needs, and nothing more: the token keys and the
/// database (to see that the session is live). Registered as its own `web::Data`.
#[derive(Clone)]
pub struct Authenticator {
    pub jwt: std::sync::Arc<JwtKeys>,
    pub pool: DbPool,
    /// Session checks reused for a moment (`session_cache`).
    pub sessions: std::sync::Arc<SessionCache>,
    /// `zhijian_session_checks_total`, by where each check was answered.
    pub checks: Family<Outcome, Counter>,
}

impl Authenticator {
    fn count(&self, outcome: &str) {
        let label = Outcome {
            outcome: outcome.to_owned(),
        };
        self.checks.get_or_create(&label).inc();
    }
}

/// The one route a token whose account must change its password may call.
pub const PASSWORD_CHANGE_ROUTE: &str = "/api/v1/me/password";

#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: UserId,
    pub role: Role,
    pub session_id: SessionId,
}

impl Principal {
    /// Function-level authorization: 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ErrorCode::Forbidden.into())
        }
    }
}

pub(crate) fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let Some(value) = req.headers().get(AUTHORIZATION) else {
        return Err(ErrorCode::Unauthenticated.into());
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::new(ErrorCode::TokenInvalid))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(token.trim().to_owned())
        }
        _ => Err(ErrorCode::TokenInvalid.into()),
    }
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(principal) = req.extensions().get::<Principal>().cloned() {
            return Box::pin(async move { Ok(principal) });
        }
        let auth = req.app_data::<web::Data<Authenticator>>().cloned();
        let token = bearer(req);
        let changing_password = req.match_pattern().as_deref() == Some(PASSWORD_CHANGE_ROUTE);
        Box::pin(async move {
            let auth = auth.ok_or_else(|| ApiError::internal("authenticator missing"))?;
            let token = token?;
            let claims = auth.jwt.verify(&token).map_err(|e| match e {
                // A partner's token is valid, just not here (contract v1.1).
                _ if auth.jwt.verify_partner(&token).is_ok() => ApiError::new(ErrorCode::Forbidden)
                    .with_detail("合作方令牌只能用于 /api/v1/partner/ 下的接口"),
                TokenError::Expired => ApiError::new(ErrorCode::TokenExpired),
                TokenError::Invalid => ApiError::new(ErrorCode::TokenInvalid),
            })?;
            let (Some(user_id), Some(session_id)) =
                (UserId::parse(&claims.sub), SessionId::parse(&claims.sid))
            else {
                return Err(ErrorCode::TokenInvalid.into());
            };
            let state_now = match auth.sessions.get(&session_id, &user_id) {
                Some((role, change_required)) => {
                    auth.count("cache");
                    SessionState::Active(role, change_required)
                }
                None => {
                    auth.count("database");
                    let epoch = auth.sessions.epoch();
                    let (uid, sid) = (user_id.clone(), session_id.clone());
                    let read = db::run(&auth.pool, move |conn| {
                        Ok::<_, ApiError>(sessions::state(conn, &sid, &uid)?)
                    })
                    .await?;
                    if let SessionState::Active(role, change_required) = read {
                        auth.sessions
                            .put(epoch, &session_id, &user_id, role, change_required);
                    }
                    read
                }
            };
            match state_now {
                // The role is read from the account (or from a check remembered while
                // revocations are heard: `session_cache`), so a demotion takes effect at once.
                // After an admin's reset, only the password change is open (contract v1.1).
                SessionState::Active(_, true) if !changing_password => {
                    Err(ErrorCode::PasswordChangeRequired.into())
                }
                SessionState::Active(role, _) => Ok(Principal {
                    user_id,
                    role,
                    session_id,
                }),
                SessionState::Revoked => Err(ErrorCode::TokenRevoked.into()),
                SessionState::Gone => Err(ErrorCode::TokenInvalid.into()),
            }
        })
    }
}
