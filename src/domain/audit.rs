//! The audit trail (contract v1.1, "The union office"): one entry for every state change,
//! written by the change's own transaction, and later chained by `audit_chain::seal`.
//!
//! An entry is `{actor, action, subject_type, subject_id, union_id, data}`: `actor` is a
//! user or partner id (`None` for the system's own jobs), `union_id` the union whose
//! subtree may read it (`None`: platform admins only), `data` JSON without personal data.

use std::sync::RwLock;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::db::schema::{audit_events, unions};
use crate::db::DbConnection;
use crate::domain::ids::{AuditEventId, UnionId};
use crate::domain::voucher_code::VoucherKeys;

/// The server key entries are signed with (set once the keys are checked at start-up).
/// One process serves one database, so one key; tests share theirs.
static KEY: RwLock<Option<VoucherKeys>> = RwLock::new(None);

/// Signs this process's entries with `keys` (`VOUCHER_KEY`).
pub fn use_key(keys: &VoucherKeys) {
    if let Ok(mut k) = KEY.write() {
        *k = Some(keys.clone());
    }
}

/// The entry's HMAC: over its id, time and content (not its place in the chain, which
/// the sealer assigns later). Without it, a row added or edited with plain SQL — even
/// before it is chained — would pass for the service's own.
pub fn entry_mac(keys: &VoucherKeys, e: &StoredEntry) -> String {
    let at = stamp(e.created_at);
    let content = json!([
        e.id,
        at,
        e.actor_id,
        e.action,
        e.subject_type,
        e.subject_id,
        e.union_id,
        e.detail
    ]);
    keys.tag("audit-entry:", &content.to_string())
}

/// One state change to record.
#[derive(Debug, Clone)]
pub struct Audit<'a> {
    pub actor: Option<&'a str>,
    /// `noun.verb`, e.g. `voucher.claimed`, `staff.disabled`, `pii.viewed`.
    pub action: &'a str,
    /// `voucher`, `redemption`, `membership`, `campaign`, `user`, `partner`, `union`, …
    pub subject_type: &'a str,
    pub subject_id: &'a str,
    pub union_id: Option<&'a UnionId>,
    pub data: Value,
}

impl<'a> Audit<'a> {
    /// `actor` did `action` to the `subject_type` `subject_id`.
    pub fn new(actor: Option<&'a str>, action: &'a str, subject_type: &'a str, subject_id: &'a str) -> Self {
        Self {
            actor,
            action,
            subject_type,
            subject_id,
            union_id: None,
            data: Value::Object(serde_json::Map::new()),
        }
    }

    /// The union whose subtree's admins may read the entry.
    #[must_use]
    pub fn union(mut self, union: &'a UnionId) -> Self {
        self.union_id = Some(union);
        self
    }

    /// Facts about the change (ids, statuses, counts: never names or phones).
    #[must_use]
    pub fn data(mut self, data: Value) -> Self {
        self.data = data;
        self
    }
}

/// An entry's time as its hash and signature read it: UTC to the microsecond both
/// databases keep.
pub fn stamp(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// Writes the entry, unchained (`seq` NULL): appending never waits for another writer.
/// Call inside the transaction of the change it records.
pub fn record(conn: &mut DbConnection, entry: Audit<'_>, now: NaiveDateTime) -> QueryResult<()> {
    record_many(conn, vec![entry], now)
}

/// Writes the entries of a change that touched many subjects at once (an allocation's
/// batch) in one statement. Call inside the transaction of the change.
pub fn record_many(conn: &mut DbConnection, entries: Vec<Audit<'_>>, now: NaiveDateTime) -> QueryResult<()> {
    let rows: Vec<_> = entries
        .into_iter()
        .map(|entry| {
            let stored = sign(entry, now);
            (
                audit_events::id.eq(stored.id),
                audit_events::actor_id.eq(stored.actor_id),
                audit_events::action.eq(stored.action),
                audit_events::subject_type.eq(stored.subject_type),
                audit_events::subject_id.eq(stored.subject_id),
                audit_events::union_id.eq(stored.union_id),
                audit_events::detail.eq(stored.detail),
                audit_events::created_at.eq(now),
                audit_events::mac.eq(stored.mac),
            )
        })
        .collect();
    crate::db::insert_rows!(conn, audit_events::table, rows)
}

/// The row an entry is stored as at `now`, unchained, with its id and its HMAC (`mac`
/// empty when no key was set: a tool that never checked one; `verify` says so).
pub fn sign(entry: Audit<'_>, now: NaiveDateTime) -> StoredEntry {
    let mut stored = StoredEntry {
        id: AuditEventId::generate(),
        seq: None,
        created_at: now,
        actor_id: entry.actor.map(str::to_owned),
        action: entry.action.to_owned(),
        subject_type: entry.subject_type.to_owned(),
        subject_id: entry.subject_id.to_owned(),
        union_id: entry.union_id.map(|u| u.as_str().to_owned()),
        detail: entry.data.to_string(),
        prev_hash: None,
        hash: None,
        mac: String::new(),
    };
    if let Ok(Some(keys)) = KEY.read().as_deref() {
        stored.mac = entry_mac(keys, &stored);
    }
    stored
}

/// A chained entry as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct StoredEntry {
    pub id: AuditEventId,
    pub seq: Option<i64>,
    pub created_at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    pub union_id: Option<String>,
    pub detail: String,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
    pub mac: String,
}

/// Filters of `GET /admin/audit-events`.
#[derive(Debug, Default)]
pub struct AuditFilter {
    /// Only entries of unions under this path; `None` for everything (platform admins).
    pub union_path: Option<String>,
    pub subject_id: Option<String>,
    pub action: Option<String>,
    /// Entries with a `seq` below this one (the cursor; newest first).
    pub before_seq: Option<i64>,
}

/// Chained entries, newest first, at most `limit`.
pub fn page(conn: &mut DbConnection, f: &AuditFilter, limit: i64) -> QueryResult<Vec<StoredEntry>> {
    let mut q = audit_events::table
        .filter(audit_events::seq.is_not_null())
        .select(StoredEntry::as_select())
        .order(audit_events::seq.desc())
        .limit(limit)
        .into_boxed();
    if let Some(prefix) = &f.union_path {
        q = q.filter(
            audit_events::union_id.eq_any(
                unions::table
                    .filter(unions::path.like(format!("{prefix}%")))
                    .select(unions::id.nullable()),
            ),
        );
    }
    if let Some(subject) = &f.subject_id {
        q = q.filter(audit_events::subject_id.eq(subject));
    }
    if let Some(action) = &f.action {
        q = q.filter(audit_events::action.eq(action));
    }
    if let Some(before) = f.before_seq {
        q = q.filter(audit_events::seq.lt(before));
    }
    q.load(conn)
}

/// On a `VOUCHER_KEY` rotation: entries signed under `old` are signed again under `new`;
/// an entry whose signature did not hold keeps its bad one, so a rotation launders
/// nothing. Returns how many were re-signed. Call inside the rotation's transaction.
pub fn resign(conn: &mut DbConnection, old: &VoucherKeys, new: &VoucherKeys) -> QueryResult<u64> {
    let mut done = 0;
    let mut after: Option<AuditEventId> = None;
    loop {
        let mut q = audit_events::table
            .order(audit_events::id.asc())
            .limit(1000)
            .select(StoredEntry::as_select())
            .into_boxed();
        if let Some(a) = &after {
            q = q.filter(audit_events::id.gt(a));
        }
        let rows: Vec<StoredEntry> = q.load(conn)?;
        let Some(last) = rows.last().map(|r| r.id.clone()) else {
            return Ok(done);
        };
        for row in rows.iter().filter(|r| r.mac == entry_mac(old, r)) {
            diesel::update(audit_events::table.find(&row.id))
                .set(audit_events::mac.eq(entry_mac(new, row)))
                .execute(conn)?;
            done += 1;
        }
        after = Some(last);
    }
}
