//! `Idempotency-Key`: the first answer to (principal, key) is stored and replayed for
//! 24 hours to the same principal sending the same request; the same key with another
//! request is refused (422), and a repeat while the first is still running gets 409.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::schema::idempotency_keys as keys;
use crate::db::{is_unique_violation, DbConnection};
use crate::domain::ids::UserId;

pub const RETENTION_HOURS: i64 = 24;
/// An attempt still "in flight" after this long is presumed dead (a crash, a kill); a
/// retry may take its place. Safe even if it is only stalled: the attempt's lease (its
/// `created_at`) no longer matches, so its `complete` fails and its transaction rolls
/// back. Longer than an attempt can legitimately take: a 5 s wait for a pool connection,
/// then at most SQLite's 15 s busy wait for the writer's lock (PostgreSQL lock waits are
/// bounded by the redemption lock and the sharded stock, seconds at most).
const STALE_AFTER_SECS: i64 = 30;

/// A validated key as sent.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// 1–255 visible ASCII characters.
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = (1..=255).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| Self(raw.to_owned()))
    }
}

/// Fingerprint of what was asked: method, route pattern (`/api/v1/campaigns/{id}/claims`),
/// the path's ids in canonical form, and the whole body as parsed and re-serialised
/// (`serde_json` sorts object keys, so field order does not matter).
pub fn request_hash(method: &str, route: &str, path_ids: &[&str], body: &serde_json::Value) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update(b" ");
    h.update(route.as_bytes());
    for id in path_ids {
        h.update(b" ");
        h.update(id.as_bytes());
    }
    h.update(b"\n");
    h.update(body.to_string().as_bytes());
    hex::encode(h.finalize())
}

/// What an idempotent request is recognised by. `current` is what is stored. Records
/// written before fingerprints named the route pattern (they live 24 h) hashed the raw
/// path instead; `earlier` is that hash, accepted as the same request until they expire.
#[derive(Debug, Clone)]
pub struct Fingerprint {
    pub current: String,
    pub earlier: String,
}

crate::text_enum!(
    /// `idempotency_keys.state`: claimed by a running attempt, or answered.
    pub enum KeyState {
        InFlight => "in_flight",
        Done => "done",
    }
);

#[derive(Debug, PartialEq, Eq)]
pub enum Begin {
    /// First time (or a dead attempt taken over): go ahead, then `complete` (or
    /// `abandon`) holding this lease, the record's `created_at`.
    Proceed {
        lease: NaiveDateTime,
    },
    Replay {
        status: u16,
        body: String,
    },
    InFlight,
    Mismatch,
}

type Row = (
    String,
    KeyState,
    Option<i32>,
    Option<String>,
    NaiveDateTime,
    NaiveDateTime,
);

/// Claims the key for this request. Commit before doing the work, so that a concurrent
/// repeat sees it in flight.
pub fn begin(
    conn: &mut DbConnection,
    who: &UserId,
    key: &IdempotencyKey,
    fingerprint: &Fingerprint,
    now: NaiveDateTime,
) -> QueryResult<Begin> {
    let hash = fingerprint.current.as_str();
    for _ in 0..2 {
        let inserted = conn.transaction(|conn| {
            diesel::insert_into(keys::table)
                .values((
                    keys::principal_id.eq(who.as_str()),
                    keys::idem_key.eq(&key.0),
                    keys::request_hash.eq(hash),
                    keys::state.eq(KeyState::InFlight),
                    keys::created_at.eq(now),
                    keys::expires_at.eq(now + Duration::hours(RETENTION_HOURS)),
                ))
                .execute(conn)
        });
        match inserted {
            Ok(_) => return Ok(Begin::Proceed { lease: now }),
            Err(e) if is_unique_violation(&e) => {}
            Err(e) => return Err(e),
        }
        let Some((stored_hash, state, status, body, created_at, expires_at)) = keys::table
            .find((who.as_str(), &key.0))
            .select((
                keys::request_hash,
                keys::state,
                keys::response_status,
                keys::response_body,
                keys::created_at,
                keys::expires_at,
            ))
            .first::<Row>(conn)
            .optional()?
        else {
            continue;
        };
        if expires_at <= now {
            diesel::delete(
                keys::table
                    .find((who.as_str(), &key.0))
                    .filter(keys::expires_at.le(now)),
            )
            .execute(conn)?;
            continue;
        }
        if stored_hash != hash && stored_hash != fingerprint.earlier {
            return Ok(Begin::Mismatch);
        }
        if let (Some(status), Some(body)) = (status.filter(|_| state == KeyState::Done), body) {
            // Written from a `u16` by `complete`; anything else is a corrupt record.
            let status = u16::try_from(status)
                .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
            return Ok(Begin::Replay { status, body });
        }
        if created_at <= now - Duration::seconds(STALE_AFTER_SECS) {
            let taken = diesel::update(
                keys::table
                    .find((who.as_str(), &key.0))
                    .filter(keys::state.eq(KeyState::InFlight))
                    .filter(keys::created_at.eq(created_at)),
            )
            .set(keys::created_at.eq(now))
            .execute(conn)?;
            if taken == 1 {
                return Ok(Begin::Proceed { lease: now });
            }
        }
        return Ok(Begin::InFlight);
    }
    Ok(Begin::InFlight)
}

/// Stores the answer if the attempt still holds its `lease`; `Ok(false)` when another
/// attempt took the key over meanwhile (this one was presumed dead): the caller must then
/// roll its work back. Call it in the same transaction as the work, so the effect and
/// its recorded answer commit together, or neither.
pub fn complete(
    conn: &mut DbConnection,
    who: &UserId,
    key: &IdempotencyKey,
    lease: NaiveDateTime,
    status: u16,
    body: &str,
) -> QueryResult<bool> {
    let stored = diesel::update(
        keys::table
            .find((who.as_str(), &key.0))
            .filter(keys::state.eq(KeyState::InFlight))
            .filter(keys::created_at.eq(lease)),
    )
    .set((
        keys::state.eq(KeyState::Done),
        keys::response_status.eq(i32::from(status)),
        keys::response_body.eq(body),
    ))
    .execute(conn)?;
    Ok(stored == 1)
}

/// Forgets an attempt that produced no answer worth keeping (a 5xx), so a retry runs;
/// a record another attempt has taken over (another `lease`) is left alone.
pub fn abandon(
    conn: &mut DbConnection,
    who: &UserId,
    key: &IdempotencyKey,
    lease: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(
        keys::table
            .find((who.as_str(), &key.0))
            .filter(keys::state.eq(KeyState::InFlight))
            .filter(keys::created_at.eq(lease)),
    )
    .execute(conn)?;
    Ok(())
}

pub fn purge_expired(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(keys::table.filter(keys::expires_at.le(now))).execute(conn)
}
