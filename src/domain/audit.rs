//! The audit trail (contract v1.1, "The union office"): one entry for every state change,
//! written by the change's own transaction, and later chained by `audit_chain::seal`.
//!
//! An entry is `{actor, action, subject_type, subject_id, union_id, data}`: `actor` is a
//! user or partner id (`None` for the system's own jobs), `union_id` the union whose
//! subtree may read it (`None`: platform admins only), `data` JSON without personal data.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::Value;

use crate::db::schema::{audit_events, unions};
use crate::db::DbConnection;
use crate::domain::ids::{AuditEventId, UnionId};

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

/// Writes the entry, unchained (`seq` NULL): appending never waits for another writer.
/// Call inside the transaction of the change it records.
pub fn record(conn: &mut DbConnection, entry: Audit<'_>, now: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::id.eq(AuditEventId::generate()),
            audit_events::actor_id.eq(entry.actor),
            audit_events::action.eq(entry.action),
            audit_events::subject_type.eq(entry.subject_type),
            audit_events::subject_id.eq(entry.subject_id),
            audit_events::union_id.eq(entry.union_id),
            audit_events::detail.eq(entry.data.to_string()),
            audit_events::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
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
