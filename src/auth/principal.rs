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
use super::sessions::{self, SessionSeen, SessionState};
use crate::db::{self, DbConnection, DbPool};
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

/// An access token that verified, and its session's check if one was remembered
/// (`session_cache`); whether the session is live is not known yet, so its ids are
/// "unverified" until `check` or `settle_seen` makes a `Principal`. `check` reads the
/// session with a statement of its own; a handler that reads the database anyway settles
/// it from its own statement instead (`settle_seen`, with `standing::read`): one round trip
/// fewer on a request's first call.
#[must_use]
pub struct Presented {
    user_id: UserId,
    session_id: SessionId,
    /// The check remembered for this session, if any: (role, password change required).
    remembered: Option<(Role, bool)>,
    changing_password: bool,
    auth: web::Data<Authenticator>,
    /// The memory's epoch before the database was asked (`SessionCache::put`).
    epoch: u64,
}

impl Presented {
    /// The token's user: not yet known to have a live session.
    pub fn unverified_user(&self) -> &UserId {
        &self.user_id
    }

    /// The token's session: not yet known to be live.
    pub fn unverified_session(&self) -> &SessionId {
        &self.session_id
    }

    /// Whether this session's check is remembered (`check` then needs no statement).
    pub fn is_remembered(&self) -> bool {
        self.remembered.is_some()
    }

    /// Verifies the request's bearer token (not its session).
    fn verify(req: &HttpRequest) -> Result<Self, ApiError> {
        let auth = req
            .app_data::<web::Data<Authenticator>>()
            .cloned()
            .ok_or_else(|| ApiError::internal("authenticator missing"))?;
        let token = bearer(req)?;
        let claims = auth.jwt.verify(&token).map_err(|e| match e {
            // A partner's token is valid, just not here (contract v1.1).
            _ if auth.jwt.verify_partner(&token).is_ok() => ApiError::new(ErrorCode::Forbidden)
                .with_detail("合作方令牌只能用于 /api/v1/partner/ 下的接口"),
            TokenError::Expired => ApiError::new(ErrorCode::TokenExpired),
            TokenError::Invalid => ApiError::new(ErrorCode::TokenInvalid),
        })?;
        let (Some(user_id), Some(session_id)) = (UserId::parse(&claims.sub), SessionId::parse(&claims.sid))
        else {
            return Err(ErrorCode::TokenInvalid.into());
        };
        let remembered = auth.sessions.get(&session_id, &user_id);
        Ok(Self {
            epoch: auth.sessions.epoch(),
            changing_password: req.match_pattern().as_deref() == Some(PASSWORD_CHANGE_ROUTE),
            user_id,
            session_id,
            remembered,
            auth,
        })
    }

    /// The principal, from the session's `state` as read from the database just now
    /// (remembered for a moment when live) or from the remembered check. Errors:
    /// `TOKEN_REVOKED`, `TOKEN_INVALID` (no such session), `PASSWORD_CHANGE_REQUIRED`
    /// (contract v1.1) on every route but the password change.
    pub fn settle(self, state: Option<SessionState>) -> Result<Principal, ApiError> {
        let state = match (state, self.remembered) {
            (Some(read), _) => {
                self.auth.count("database");
                if let SessionState::Active(role, change_required) = read {
                    self.auth.sessions.put(
                        self.epoch,
                        &self.session_id,
                        &self.user_id,
                        role,
                        change_required,
                    );
                }
                read
            }
            (None, Some((role, change_required))) => {
                self.auth.count("cache");
                SessionState::Active(role, change_required)
            }
            (None, None) => return Err(ApiError::internal("session neither read nor remembered")),
        };
        match state {
            // The role is read from the account (or from a check remembered while
            // revocations are heard: `session_cache`), so a demotion takes effect at once.
            // After an admin's reset, only the password change is open (contract v1.1).
            SessionState::Active(_, true) if !self.changing_password => {
                Err(ErrorCode::PasswordChangeRequired.into())
            }
            SessionState::Active(role, _) => Ok(Principal {
                user_id: self.user_id,
                role,
                session_id: self.session_id,
            }),
            SessionState::Revoked => Err(ErrorCode::TokenRevoked.into()),
            SessionState::Gone => Err(ErrorCode::TokenInvalid.into()),
        }
    }
}

impl Presented {
    /// The principal: from the remembered check, or with a statement of its own.
    pub async fn check(self) -> Result<Principal, ApiError> {
        if self.remembered.is_some() {
            return self.settle(None);
        }
        let (uid, sid) = (self.user_id.clone(), self.session_id.clone());
        let read = db::run(&self.auth.pool, move |conn| {
            Ok::<_, ApiError>(sessions::state(conn, &sid, &uid)?)
        })
        .await?;
        self.settle(Some(read))
    }

    /// The principal from what a larger statement saw of the session (`standing::read`);
    /// when it saw nothing (no such campaign), the session is read on its own here.
    pub fn settle_seen(
        self,
        conn: &mut DbConnection,
        seen: Option<SessionSeen>,
    ) -> Result<Principal, ApiError> {
        let state = match seen {
            Some(seen) => SessionState::of(Some(seen)),
            None => sessions::state(conn, &self.session_id, &self.user_id)?,
        };
        self.settle(Some(state))
    }
}

impl FromRequest for Presented {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Self::verify(req))
    }
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(principal) = req.extensions().get::<Principal>().cloned() {
            return Box::pin(async move { Ok(principal) });
        }
        let presented = Presented::verify(req);
        Box::pin(async move { presented?.check().await })
    }
}
