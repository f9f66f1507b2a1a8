//! Sessions and their rotating refresh tokens.
//!
//! A refresh token is opaque, stored only as a SHA-256 hash, single-use and rotated.
//! Presenting a used one revokes the whole session (stolen-token detection), with one
//! exception the weak mobile network needs: a retry of the *latest* rotation within a
//! short grace period, whose answer was lost, gets a fresh pair instead (its unused
//! successor is retired, so if that one ever surfaces, the session is revoked then).

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

pub const REFRESH_TOKEN_TTL_DAYS: i64 = 30;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
struct RefreshToken {
    id: RefreshTokenId,
    session_id: SessionId,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
    replaced_by: Option<String>,
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token_value() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("zjr_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Mints a refresh token in `session` and returns its plain value (shown once).
fn mint(
    conn: &mut DbConnection,
    session: &SessionId,
    now: NaiveDateTime,
) -> QueryResult<(RefreshTokenId, String)> {
    let id = RefreshTokenId::generate();
    let value = new_token_value();
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(&id),
            refresh_tokens::session_id.eq(session),
            refresh_tokens::token_hash.eq(hash_token(&value)),
            refresh_tokens::issued_at.eq(now),
            refresh_tokens::expires_at.eq(now + Duration::days(REFRESH_TOKEN_TTL_DAYS)),
        ))
        .execute(conn)?;
    Ok((id, value))
}

/// Starts a session for a signed-in user; returns it with its first refresh token.
pub fn start(conn: &mut DbConnection, user: &UserId, now: NaiveDateTime) -> QueryResult<(SessionId, String)> {
    let session = SessionId::generate();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(&session),
            sessions::user_id.eq(user),
            sessions::created_at.eq(now),
        ))
        .execute(conn)?;
    let (_, token) = mint(conn, &session, now)?;
    Ok((session, token))
}

/// A refresh token exchanged: the session's user and a new refresh token (shown once).
#[derive(Debug)]
pub struct Rotated {
    pub user: UserId,
    pub role: Role,
    pub session: SessionId,
    pub refresh_token: String,
}

/// Why a refresh token is not exchanged.
#[derive(Debug, thiserror::Error)]
pub enum RotationRefusal {
    /// A used token outside the retry grace: the session is revoked.
    #[error("refresh token reused")]
    Reused,
    #[error("refresh token expired")]
    Expired,
    #[error("session revoked")]
    Revoked,
    #[error("unknown refresh token")]
    Unknown,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Exchanges a refresh token for a new one. Call inside a write transaction; on
/// `Reused` the revocation must commit, so the caller commits refusals too.
pub fn rotate(
    conn: &mut DbConnection,
    presented: &str,
    now: NaiveDateTime,
    grace: Duration,
) -> QueryResult<Result<Rotated, RotationRefusal>> {
    let Some(token) = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash_token(presented)))
        .select(RefreshToken::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(Err(RotationRefusal::Unknown));
    };
    let (user, role, revoked_at): (UserId, Role, Option<NaiveDateTime>) = sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(&token.session_id))
        .select((users::id, users::role, sessions::revoked_at))
        .first(conn)?;
    if revoked_at.is_some() {
        return Ok(Err(RotationRefusal::Revoked));
    }
    if token.used_at.is_none() && token.expires_at <= now {
        return Ok(Err(RotationRefusal::Expired));
    }
    // The conditional update is the fence: of two concurrent uses exactly one wins.
    let won = token.used_at.is_none()
        && diesel::update(
            refresh_tokens::table
                .find(&token.id)
                .filter(refresh_tokens::used_at.is_null()),
        )
        .set(refresh_tokens::used_at.eq(now))
        .execute(conn)?
            == 1;
    if !won && !retire_successor_for_retry(conn, &token.id, now, grace)? {
        revoke(conn, &token.session_id, "refresh_token_reused", now)?;
        return Ok(Err(RotationRefusal::Reused));
    }
    let (next_id, refresh_token) = mint(conn, &token.session_id, now)?;
    diesel::update(refresh_tokens::table.find(&token.id))
        .set(refresh_tokens::replaced_by.eq(next_id.as_str()))
        .execute(conn)?;
    Ok(Ok(Rotated {
        user,
        role,
        session: token.session_id,
        refresh_token,
    }))
}

/// A used token may be presented again only as a retry: within `grace` of its use and
/// while its successor has never been used. The successor is retired in that case.
fn retire_successor_for_retry(
    conn: &mut DbConnection,
    token: &RefreshTokenId,
    now: NaiveDateTime,
    grace: Duration,
) -> QueryResult<bool> {
    let current: RefreshToken = refresh_tokens::table
        .find(token)
        .select(RefreshToken::as_select())
        .first(conn)?;
    let within_grace = grace > Duration::zero() && current.used_at.is_some_and(|used| now - used <= grace);
    let Some(successor) = current.replaced_by.filter(|_| within_grace) else {
        return Ok(false);
    };
    let retired = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::id.eq(successor))
            .filter(refresh_tokens::used_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(now))
    .execute(conn)?;
    Ok(retired == 1)
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
    .execute(conn)?;
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

/// The state an access token's session is in, with its user's current role.
pub enum SessionState {
    Active(Role),
    Revoked,
    Gone,
}

pub fn state(conn: &mut DbConnection, session: &SessionId, user: &UserId) -> QueryResult<SessionState> {
    let row: Option<(Option<NaiveDateTime>, Role)> = sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(session))
        .filter(sessions::user_id.eq(user))
        .select((sessions::revoked_at, users::role))
        .first(conn)
        .optional()?;
    Ok(match row {
        None => SessionState::Gone,
        Some((Some(_), _)) => SessionState::Revoked,
        Some((None, role)) => SessionState::Active(role),
    })
}
