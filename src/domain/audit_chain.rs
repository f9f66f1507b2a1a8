//! The audit trail's hash chain: one chain per database.
//!
//! Changes write their entries unchained (`audit::record`), so a claim burst never queues
//! on a chain head. The sealer (`seal`, run by the background job on every tick and before
//! the audit list is read) takes the head's row lock, gives the waiting entries the next
//! `seq` numbers in the order they were written, and stores for each
//! `hash = SHA-256(JSON [seq, at, actor, action, subject_type, subject_id, union_id, data,
//! prev_hash])`. The head (`app_settings.audit_head` = `seq:hash`) witnesses the last entry,
//! so removing the newest entries is detected as well.
//!
//! Why one chain, not one per union subtree: sealing is already off the write path, so
//! per-subtree chains would buy no throughput; one chain also covers platform-level
//! entries (partners, national unions) and needs one check.

use diesel::prelude::*;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::audit::{entry_mac, StoredEntry};
use crate::db::schema::{app_settings, audit_events};
use crate::db::{self, DbConnection};
use crate::domain::ids::AuditEventId;
use crate::domain::voucher_code::VoucherKeys;

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const HEAD_KEY: &str = "audit_head";
const PAGE: i64 = 1000;

/// The hash an entry with this `seq` and predecessor must carry.
pub fn entry_hash(e: &StoredEntry, seq: i64, prev_hash: &str) -> String {
    let at = super::audit::stamp(e.created_at);
    let canonical = json!([
        seq,
        at,
        e.actor_id,
        e.action,
        e.subject_type,
        e.subject_id,
        e.union_id,
        e.detail,
        prev_hash
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

fn parse_head(raw: &str) -> (i64, String) {
    let (seq, hash) = raw.split_once(':').unwrap_or(("0", ""));
    let hash = if hash.is_empty() { GENESIS } else { hash };
    (seq.parse().unwrap_or(0), hash.to_owned())
}

/// The chain's head as recorded: `(seq, hash)`; `(0, GENESIS)` before the first entry.
pub fn head(conn: &mut DbConnection) -> QueryResult<(i64, String)> {
    let raw: Option<String> = app_settings::table
        .find(HEAD_KEY)
        .select(app_settings::value)
        .first(conn)
        .optional()?;
    Ok(parse_head(raw.as_deref().unwrap_or("0:")))
}

/// Chains up to `max` waiting entries in one short transaction; returns how many.
/// Several instances may call it at once: the head's row lock queues them.
pub fn seal(conn: &mut DbConnection, max: i64) -> QueryResult<usize> {
    db::write_tx(conn, |c| {
        // Takes the head's row lock on PostgreSQL (SQLite's BEGIN IMMEDIATE already did).
        let locked = diesel::update(app_settings::table.find(HEAD_KEY))
            .set(app_settings::value.eq(app_settings::value))
            .execute(c)?;
        if locked == 0 {
            diesel::insert_into(app_settings::table)
                .values((app_settings::key.eq(HEAD_KEY), app_settings::value.eq("0:")))
                .execute(c)?;
        }
        let (mut seq, mut prev) = head(c)?;
        let waiting: Vec<StoredEntry> = audit_events::table
            .filter(audit_events::seq.is_null())
            .order((audit_events::created_at.asc(), audit_events::id.asc()))
            .limit(max)
            .select(StoredEntry::as_select())
            .load(c)?;
        let mut links = Vec::with_capacity(waiting.len());
        for e in &waiting {
            seq += 1;
            let hash = entry_hash(e, seq, &prev);
            links.push(format!("('{}', {seq}, '{prev}', '{hash}')", e.id));
            prev = hash;
        }
        if !links.is_empty() {
            // One statement for the whole batch (PostgreSQL and SQLite ≥ 3.33 both take a
            // VALUES list with named columns and UPDATE … FROM). Every value is a parsed
            // UUID, a number or hex: nothing to escape.
            diesel::sql_query(format!(
                "WITH v (id, seq, prev_hash, hash) AS (VALUES {}) \
                 UPDATE audit_events SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash \
                 FROM v WHERE audit_events.id = v.id AND audit_events.seq IS NULL",
                links.join(", ")
            ))
            .execute(c)?;
        }
        if !waiting.is_empty() {
            diesel::update(app_settings::table.find(HEAD_KEY))
                .set(app_settings::value.eq(format!("{seq}:{prev}")))
                .execute(c)?;
        }
        Ok(waiting.len())
    })
}

/// Seals until nothing waits (bounded batches, each its own transaction).
pub fn seal_all(conn: &mut DbConnection) -> QueryResult<usize> {
    let mut total = 0;
    loop {
        let n = seal(conn, PAGE)?;
        total += n;
        if n < usize::try_from(PAGE).unwrap_or(usize::MAX) {
            return Ok(total);
        }
    }
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Entries checked.
    pub sealed: i64,
    /// Entries written but not chained yet.
    pub waiting: i64,
    pub head_seq: i64,
    pub head_hash: String,
    /// The first `seq` that does not hold, and why.
    pub broken: Option<(i64, &'static str)>,
    /// An entry not chained yet whose signature does not hold (slipped in or edited).
    pub forged_waiting: Option<AuditEventId>,
}

/// Walks the chain in `seq` order, a page at a time (bounded memory), inside one
/// read-only snapshot so a sealer committing meanwhile cannot look like tampering.
/// `keys` checks each entry's signature (`audit::entry_mac`).
pub fn verify(conn: &mut DbConnection, keys: &VoucherKeys) -> QueryResult<Verdict> {
    crate::db::read_snapshot(conn, |c| walk(c, keys))
}

fn check(
    row: &StoredEntry,
    keys: &VoucherKeys,
    expected: i64,
    prev: &str,
    head_seq: i64,
) -> Option<(i64, &'static str)> {
    let seq = row.seq.unwrap_or(0);
    if seq != expected {
        Some((expected, "缺少该序号的记录（被删除，或其后有插入）"))
    } else if row.prev_hash.as_deref() != Some(prev) {
        Some((seq, "前一条记录的哈希不符（记录被插入或替换）"))
    } else if row.hash.as_deref() != Some(entry_hash(row, seq, prev).as_str()) {
        Some((seq, "记录内容与哈希不符（记录被修改）"))
    } else if row.mac != entry_mac(keys, row) {
        Some((seq, "记录的签名不符（不是本服务写入的，或被修改）"))
    } else if seq > head_seq {
        Some((seq, "链头之后多出的记录（被插入）"))
    } else {
        None
    }
}

fn walk(conn: &mut DbConnection, keys: &VoucherKeys) -> QueryResult<Verdict> {
    let (head_seq, head_hash) = head(conn)?;
    let mut verdict = Verdict {
        sealed: 0,
        waiting: 0,
        head_seq,
        head_hash: head_hash.clone(),
        broken: None,
        forged_waiting: None,
    };
    let (mut expected, mut prev) = (1_i64, GENESIS.to_owned());
    loop {
        let rows: Vec<StoredEntry> = audit_events::table
            .filter(audit_events::seq.ge(expected))
            .order(audit_events::seq.asc())
            .limit(PAGE)
            .select(StoredEntry::as_select())
            .load(conn)?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            if let Some(problem) = check(row, keys, expected, &prev, head_seq) {
                verdict.broken = Some(problem);
                return Ok(verdict);
            }
            verdict.sealed += 1;
            prev = row.hash.clone().unwrap_or_default();
            expected += 1;
        }
    }
    if expected - 1 != head_seq || prev != head_hash {
        // The newest entries were removed (or the head was edited).
        verdict.broken = Some((expected, "链头记录的最后一条不存在（末尾记录被删除）"));
        return Ok(verdict);
    }
    // Entries not chained yet: each must carry the service's signature.
    let mut after: Option<AuditEventId> = None;
    loop {
        let mut q = audit_events::table
            .filter(audit_events::seq.is_null())
            .order(audit_events::id.asc())
            .limit(PAGE)
            .select(StoredEntry::as_select())
            .into_boxed();
        if let Some(a) = &after {
            q = q.filter(audit_events::id.gt(a));
        }
        let rows: Vec<StoredEntry> = q.load(conn)?;
        let Some(last) = rows.last().map(|r| r.id.clone()) else {
            break;
        };
        verdict.waiting += i64::try_from(rows.len()).unwrap_or(i64::MAX);
        if let Some(bad) = rows.iter().find(|r| r.mac != entry_mac(keys, r)) {
            verdict.forged_waiting = Some(bad.id.clone());
            return Ok(verdict);
        }
        after = Some(last);
    }
    Ok(verdict)
}
