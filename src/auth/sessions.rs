//! Sessions and their rotating refresh tokens (contract v1.1, "Sessions, throttling and
//! secrets").
//!
//! A refresh token is opaque, stored only as a SHA-256 hash, and rotated on use. Tokens
//! of a session form a tree: using a token mints a child. A phone whose access token
//! expires often fires two calls at once, and a weak network loses answers, so a token
//! may be presented again within `REFRESH_RETRY_GRACE_SECS` of its first use, as long as
//! none of its children has been used: each such retry mints another child, and every
//! child stays usable. Outside that, a used token is reuse (a stolen copy, or a very
//! late retry): the whole session is revoked. Every rotation of a session first takes
//! that session's row lock, so concurrent refreshes queue one behind the other in one
//! order — never a deadlock, never two decisions from one stale read.
//!
//! A session also ends when idle (no refresh for `SESSION_IDLE_SECS`) and at its
//! absolute lifetime (`SESSION_ABSOLUTE_SECS` after sign-in).

use super::session_cache;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::db::schema::{refresh_tokens, sessions, users};
use crate::db::DbConnection;
use crate::domain::ids::{RefreshTokenId, SessionId, UserId};
use crate::domain::profile::Role;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
struct RefreshToken {
    id: RefreshTokenId,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token_value() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("zjr_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Mints a refresh token in `session` (a child of `parent`, if any) valid for `ttl`, and
/// returns its plain value (shown once).
fn mint(
    conn: &mut DbConnection,
    session: &SessionId,
    parent: Option<&RefreshTokenId>,
    now: NaiveDateTime,
    ttl: Duration,
) -> QueryResult<String> {
    let value = new_token_value();
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(RefreshTokenId::generate()),
            refresh_tokens::session_id.eq(session),
            refresh_tokens::parent_id.eq(parent.map(RefreshTokenId::as_str)),
            refresh_tokens::token_hash.eq(hash_token(&value)),
            refresh_tokens::issued_at.eq(now),
            refresh_tokens::expires_at.eq(now + ttl),
        ))
        .execute(conn)?;
    Ok(value)
}

/// Starts a session for a signed-in user; returns it with its first refresh token, valid
/// for the idle lifetime `idle`.
pub fn start(
    conn: &mut DbConnection,
    user: &UserId,
    now: NaiveDateTime,
    idle: Duration,
) -> QueryResult<(SessionId, String)> {
    let session = SessionId::generate();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(&session),
            sessions::user_id.eq(user),
            sessions::created_at.eq(now),
        ))
        .execute(conn)?;
    let token = mint(conn, &session, None, now, idle)?;
    Ok((session, token))
}

/// A refresh token exchanged: the session's user and a new refresh token (shown once).
#[derive(Debug)]
pub struct Rotated {
    pub user: UserId,
    pub role: Role,
    pub session: SessionId,
    pub refresh_token: String,
    pub password_change_required: bool,
}

/// Why a refresh token is not exchanged.
#[derive(Debug, thiserror::Error)]
pub enum RotationRefusal {
    /// A used token outside the retry grace, or one whose child was used: the session
    /// is revoked.
    #[error("refresh token reused")]
    Reused,
    #[error("refresh token expired")]
    Expired,
    /// Revoked earlier, or ended now by its idle or absolute lifetime.
    #[error("session revoked")]
    Revoked,
    #[error("unknown refresh token")]
    Unknown,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// How long sessions and retries last (from `config::Limits`).
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub retry_grace: Duration,
    pub idle: Duration,
    pub absolute: Duration,
}

/// Exchanges a refresh token for a new one. Call inside a write transaction; on
/// `Reused` and on an ended session the revocation must commit, so the caller commits
/// refusals too.
pub fn rotate(
    conn: &mut DbConnection,
    presented: &str,
    now: NaiveDateTime,
    policy: SessionPolicy,
) -> QueryResult<Result<Rotated, RotationRefusal>> {
    let hash = hash_token(presented);
    let Some(session_id) = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(&hash))
        .select(refresh_tokens::session_id)
        .first::<SessionId>(conn)
        .optional()?
    else {
        return Ok(Err(RotationRefusal::Unknown));
    };
    // The session row lock first (a no-op update takes it on PostgreSQL; SQLite's write
    // transaction already excludes other writers): everything below reads after the
    // previous rotation of this session committed.
    diesel::update(sessions::table.find(&session_id))
        .set(sessions::refreshed_at.eq(sessions::refreshed_at))
        .execute(conn)?;
    let (user, role, created_at, refreshed_at, revoked_at, change_required): SessionRow = sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(&session_id))
        .select((
            users::id,
            users::role,
            sessions::created_at,
            sessions::refreshed_at,
            sessions::revoked_at,
            users::password_change_required,
        ))
        .first(conn)?;
    if revoked_at.is_some() {
        return Ok(Err(RotationRefusal::Revoked));
    }
    let idle_since = refreshed_at.unwrap_or(created_at);
    if now - created_at > policy.absolute || now - idle_since > policy.idle {
        revoke(conn, &session_id, "session_lifetime", now)?;
        return Ok(Err(RotationRefusal::Revoked));
    }
    let token: RefreshToken = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(&hash))
        .select(RefreshToken::as_select())
        .first(conn)?;
    match token.used_at {
        None if token.expires_at <= now => return Ok(Err(RotationRefusal::Expired)),
        None => {
            diesel::update(refresh_tokens::table.find(&token.id))
                .set(refresh_tokens::used_at.eq(now))
                .execute(conn)?;
        }
        Some(used) => {
            let retry = policy.retry_grace > Duration::zero()
                && now - used <= policy.retry_grace
                && !child_used(conn, &token.id)?;
            if !retry {
                revoke(conn, &session_id, "refresh_token_reused", now)?;
                return Ok(Err(RotationRefusal::Reused));
            }
        }
    }
    let refresh_token = mint(conn, &session_id, Some(&token.id), now, policy.idle)?;
    diesel::update(sessions::table.find(&session_id))
        .set(sessions::refreshed_at.eq(now))
        .execute(conn)?;
    Ok(Ok(Rotated {
        user,
        role,
        session: session_id,
        refresh_token,
        password_change_required: change_required,
    }))
}

type SessionRow = (
    UserId,
    Role,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    bool,
);

/// Whether any token minted from `token` has been used (then `token` is spent for good).
fn child_used(conn: &mut DbConnection, token: &RefreshTokenId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        refresh_tokens::table
            .filter(refresh_tokens::parent_id.eq(token.as_str()))
            .filter(refresh_tokens::used_at.is_not_null()),
    ))
    .get_result(conn)
}

pub fn revoke(
    conn: &mut DbConnection,
    session: &SessionId,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(
        sessions::table
            .find(session)
            .filter(sessions::revoked_at.is_null()),
    )
    .set((sessions::revoked_at.eq(now), sessions::revoked_reason.eq(reason)))
    .returning(sessions::user_id)
    .get_results::<UserId>(conn)?
    .iter()
    .for_each(session_cache::forget_user);
    Ok(())
}

/// Logout: revokes the session the token belongs to; unknown tokens are ignored.
pub fn revoke_by_token(conn: &mut DbConnection, presented: &str, now: NaiveDateTime) -> QueryResult<()> {
    let session: Option<SessionId> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash_token(presented)))
        .select(refresh_tokens::session_id)
        .first(conn)
        .optional()?;
    match session {
        Some(session) => revoke(conn, &session, "logout", now),
        None => Ok(()),
    }
}

/// Revokes every live session of `user` but `keep` (the caller's own, on a password
/// change); returns how many.
pub fn revoke_all(
    conn: &mut DbConnection,
    user: &UserId,
    keep: Option<&SessionId>,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    session_cache::forget_user(user);
    let mut q = diesel::update(sessions::table)
        .filter(sessions::user_id.eq(user))
        .filter(sessions::revoked_at.is_null())
        .into_boxed();
    if let Some(keep) = keep {
        q = q.filter(sessions::id.ne(keep));
    }
    q.set((sessions::revoked_at.eq(now), sessions::revoked_reason.eq(reason)))
        .execute(conn)
}

pub use super::session_state::{state, SessionSeen, SessionState};
