//! Passwords: one's own change, and a worker's self-service reset by a 6-digit code sent
//! through the notification gateway (contract v1.1, "The union office").
//!
//! A reset code is derived from the server key and the reset's id whenever it is needed
//! (`reset_code`), so neither the code nor a hash of it is stored: a database dump gives
//! no way in. The outbox row carries only the reset's id; the gateway delivery fills the
//! code in just before sending, and nothing logs the payload.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::auth::sessions;
use crate::db::schema::{memberships, password_resets, users};
use crate::db::DbConnection;
use crate::domain::audit::{self, Audit};
use crate::domain::civil;
use crate::domain::ids::{PasswordResetId, SessionId, UnionId, UserId};
use crate::domain::phone::Phone;
use crate::domain::profile::Role;
use crate::domain::staff;
use crate::domain::utc;
use crate::domain::voucher_code::VoucherKeys;
use crate::outbox;

/// How long a reset code works.
pub const CODE_TTL: Duration = Duration::minutes(10);
/// Wrong codes before a code is retired.
pub const MAX_TRIES: i32 = 5;
/// The gateway message kind (contract: `password_reset_code`).
pub const RESET_EVENT: &str = "password_reset_code";

/// The union whose admins read an account's audit entries: a staff account's union, or
/// a worker's current membership's.
fn union_of(conn: &mut DbConnection, user: &UserId) -> QueryResult<Option<UnionId>> {
    let staff_union: Option<Option<UnionId>> = users::table
        .find(user)
        .select(users::union_id)
        .first(conn)
        .optional()?;
    if let Some(Some(u)) = staff_union {
        return Ok(Some(u));
    }
    memberships::table
        .filter(memberships::user_id.eq(user))
        .filter(memberships::ended_at.is_null())
        .select(memberships::union_id)
        .first(conn)
        .optional()
}

fn audit_account(
    conn: &mut DbConnection,
    user: &UserId,
    action: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let union = union_of(conn, user)?;
    let mut entry = Audit::new(Some(user.as_str()), action, "user", user.as_str());
    if let Some(u) = &union {
        entry = entry.union(u);
    }
    audit::record(conn, entry, now)
}

/// Stores the new password (clearing a forced change) and ends every other session —
/// only if the stored hash is still `checked_hash`, the one the current password was
/// verified against (false: it changed meanwhile, say by an admin's reset).
/// Call inside a write transaction.
pub fn change_own(
    conn: &mut DbConnection,
    user: &UserId,
    keep: &SessionId,
    checked_hash: &str,
    new_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    crate::auth::session_cache::forget_user(user);
    let changed = diesel::update(
        users::table
            .find(user)
            .filter(users::password_hash.eq(checked_hash)),
    )
    .set((
        users::password_hash.eq(new_hash),
        users::password_change_required.eq(false),
        users::updated_at.eq(now),
    ))
    .execute(conn)?;
    if changed != 1 {
        return Ok(false);
    }
    sessions::revoke_all(conn, user, Some(keep), "password_changed", now)?;
    audit_account(conn, user, "account.password_changed", now)?;
    Ok(true)
}

/// The 6-digit code of a reset.
pub fn reset_code(keys: &VoucherKeys, reset: &str) -> String {
    let d = keys.derive("password-reset:", reset);
    let n = u32::from_be_bytes([d[0], d[1], d[2], d[3]]) % 1_000_000;
    format!("{n:06}")
}

/// A worker's live account by phone (staff reset through their office instead).
fn worker_by_phone(conn: &mut DbConnection, phone: &Phone) -> QueryResult<Option<UserId>> {
    users::table
        .filter(users::phone.eq(phone))
        .filter(users::role.eq(Role::Worker))
        .filter(users::disabled_at.is_null())
        .select(users::id)
        .first(conn)
        .optional()
}

/// Starts a reset for the phone's worker, if there is one (the caller answers 202
/// either way): earlier live codes are retired, and the gateway message is queued in
/// the same transaction. Call inside a write transaction.
pub fn request_reset(conn: &mut DbConnection, phone: &Phone, now: NaiveDateTime) -> QueryResult<()> {
    let Some(user) = worker_by_phone(conn, phone)? else {
        return Ok(());
    };
    diesel::update(
        password_resets::table
            .filter(password_resets::user_id.eq(&user))
            .filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::used_at.eq(now))
    .execute(conn)?;
    let id = PasswordResetId::generate();
    let expires_at = now + CODE_TTL;
    diesel::insert_into(password_resets::table)
        .values((
            password_resets::id.eq(&id),
            password_resets::user_id.eq(&user),
            password_resets::created_at.eq(now),
            password_resets::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    let data = json!({
        "kind": RESET_EVENT, "user_id": user, "phone": phone.as_str(), "reset_id": id,
        "title": "重置密码验证码", "expires_at": utc(expires_at),
    });
    outbox::enqueue(conn, outbox::GATEWAY, RESET_EVENT, &data, now)?;
    audit_account(conn, &user, "account.password_reset_requested", now)
}

/// The gateway payload with its code and message filled in, just before sending.
pub fn fill_reset_code(keys: &VoucherKeys, payload: &str) -> String {
    let Ok(mut message) = serde_json::from_str::<Value>(payload) else {
        return payload.to_owned();
    };
    let reset = message["data"]["reset_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let code = reset_code(keys, &reset);
    let until = message["data"]["expires_at"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| civil::show(t.naive_utc()))
        .unwrap_or_default();
    message["data"]["code"] = json!(code);
    message["data"]["body"] = json!(format!(
        "您正在重置指尖工会的登录密码，验证码 {code}，{until} 前有效。如非本人操作，请忽略本消息。"
    ));
    message.to_string()
}

/// Why a reset is refused.
#[derive(Debug, thiserror::Error)]
pub enum ResetRefusal {
    /// Wrong, expired, used, retired after five wrong tries, or no such worker: all alike.
    #[error("invalid code")]
    InvalidCode,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Checks the code against the phone's newest live reset; a wrong one counts a try (the
/// caller commits refusals too). A right one sets the password and ends every session.
/// Call inside a write transaction.
pub fn confirm_reset(
    conn: &mut DbConnection,
    keys: &VoucherKeys,
    phone: &Phone,
    code: &str,
    new_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Result<(), ResetRefusal>> {
    let Some(user) = worker_by_phone(conn, phone)? else {
        return Ok(Err(ResetRefusal::InvalidCode));
    };
    let live: Option<PasswordResetId> = password_resets::table
        .filter(password_resets::user_id.eq(&user))
        .filter(password_resets::used_at.is_null())
        .filter(password_resets::expires_at.gt(now))
        .filter(password_resets::attempts.lt(MAX_TRIES))
        .order(password_resets::created_at.desc())
        .select(password_resets::id)
        .first(conn)
        .optional()?;
    let Some(reset) = live else {
        return Ok(Err(ResetRefusal::InvalidCode));
    };
    // Every try takes one of the five first, conditionally, so concurrent guesses cannot
    // share a count.
    let tried = diesel::update(
        password_resets::table
            .find(&reset)
            .filter(password_resets::attempts.lt(MAX_TRIES))
            .filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::attempts.eq(password_resets::attempts + 1))
    .execute(conn)?;
    if tried != 1 || reset_code(keys, reset.as_str()) != code {
        return Ok(Err(ResetRefusal::InvalidCode));
    }
    // Conditional: of two concurrent confirmations with the right code, one wins.
    let used = diesel::update(
        password_resets::table
            .find(&reset)
            .filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::used_at.eq(now))
    .execute(conn)?;
    if used != 1 {
        return Ok(Err(ResetRefusal::InvalidCode));
    }
    staff::set_password(conn, &user, new_hash, false, now)?;
    sessions::revoke_all(conn, &user, None, "password_reset", now)?;
    audit_account(conn, &user, "account.password_reset", now)?;
    Ok(Ok(()))
}
