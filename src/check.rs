//! `zhijian check`: a read-only consistency check an operator runs any time (issue 15).
//! Each rule is one aggregate query that both databases answer the same way; a violation
//! names what is wrong and where. Nothing here writes, so it is safe against a live
//! service (it reads in one transaction, so the rules see one state).
//!
//! The rules: every unit of every campaign is in exactly one place (in the shards, in a
//! batch not yet released, or held by an issued or redeemed voucher that has not given it
//! back); no worker holds more vouchers of a campaign than its limit; a redeemed voucher
//! has exactly one live redemption and a live redemption's voucher is redeemed; no shard
//! is below zero; every voucher has the audit entry of its issue and every live redemption
//! the audit entry of its hand-over.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::DbConnection;

/// At most this many violations of each rule are listed.
const SHOWN: i64 = 20;

/// One broken rule at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The rule's name, e.g. `stock-conservation`.
    pub rule: &'static str,
    /// Where and how, e.g. `campaign 0193…: total 900 ≠ shards 10 + unreleased 0 + held 891`.
    pub detail: String,
}

#[derive(QueryableByName)]
struct Stock {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    shards: i64,
    #[diesel(sql_type = BigInt)]
    unreleased: i64,
    #[diesel(sql_type = BigInt)]
    held: i64,
}

#[derive(QueryableByName)]
struct Place {
    #[diesel(sql_type = Text)]
    what: String,
}

/// Units that are nowhere or in two places. `SUM` is cast because PostgreSQL sums a BIGINT
/// as NUMERIC.
const STOCK: &str = "SELECT c.id AS id, c.total_stock AS total, \
     CAST(COALESCE((SELECT SUM(s.remaining) FROM campaign_stock_shards s WHERE s.campaign_id = c.id), 0) AS BIGINT) AS shards, \
     CAST(COALESCE((SELECT SUM(r.quantity) FROM campaign_stock_releases r WHERE r.campaign_id = c.id AND r.released_at IS NULL), 0) AS BIGINT) AS unreleased, \
     (SELECT COUNT(*) FROM vouchers v WHERE v.campaign_id = c.id AND v.status IN ('issued', 'redeemed') AND v.stock_returned_at IS NULL) AS held \
     FROM campaigns c ORDER BY c.id";

/// When the audit trail began recording every change (its first entry with a subject
/// type, migration `000010`): vouchers and hand-overs before it have no entries to find.
const TRAIL_START: &str = "COALESCE((SELECT MIN(t.created_at) FROM audit_events t WHERE t.subject_type <> ''), '1970-01-01 00:00:00')";

/// (rule, query selecting one `what` per violation) for the rules that list places; the
/// audit rules read `{TRAIL_START}`.
const PLACES: &[(&str, &str)] = &[
    (
        "per-worker-limit",
        "SELECT 'campaign ' || v.campaign_id || ': worker ' || v.user_id || ' holds ' || CAST(COUNT(*) AS TEXT) || ' vouchers, limit ' || CAST(c.per_worker_limit AS TEXT) AS what \
         FROM vouchers v JOIN campaigns c ON c.id = v.campaign_id \
         GROUP BY v.campaign_id, v.user_id, c.per_worker_limit HAVING COUNT(*) > c.per_worker_limit",
    ),
    (
        "one-live-redemption",
        "SELECT 'voucher ' || v.id || ' is redeemed with ' || CAST((SELECT COUNT(*) FROM redemptions r WHERE r.voucher_id = v.id AND r.reversed_at IS NULL) AS TEXT) || ' live redemptions' AS what \
         FROM vouchers v WHERE v.status = 'redeemed' \
         AND (SELECT COUNT(*) FROM redemptions r WHERE r.voucher_id = v.id AND r.reversed_at IS NULL) <> 1",
    ),
    (
        "one-live-redemption",
        "SELECT 'redemption ' || r.id || ' is live but its voucher ' || v.id || ' is ' || v.status AS what \
         FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id \
         WHERE r.reversed_at IS NULL AND v.status <> 'redeemed'",
    ),
    (
        "shard-not-negative",
        "SELECT 'campaign ' || campaign_id || ': shard ' || CAST(shard AS TEXT) || ' holds ' || CAST(remaining AS TEXT) AS what \
         FROM campaign_stock_shards WHERE remaining < 0",
    ),
    (
        "audited-issue",
        "SELECT 'voucher ' || v.id || ' has no voucher.claimed or voucher.allocated audit entry' AS what \
         FROM vouchers v WHERE v.issued_at >= {TRAIL_START} AND NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.subject_id = v.id \
         AND a.subject_type = 'voucher' AND a.action IN ('voucher.claimed', 'voucher.allocated'))",
    ),
    (
        "audited-hand-over",
        "SELECT 'redemption ' || r.id || ' (voucher ' || r.voucher_id || ') has no voucher.redeemed audit entry' AS what \
         FROM redemptions r WHERE r.reversed_at IS NULL AND r.redeemed_at >= {TRAIL_START} AND NOT EXISTS (SELECT 1 FROM audit_events a \
         WHERE a.subject_id = r.voucher_id AND a.subject_type = 'voucher' AND a.action = 'voucher.redeemed')",
    ),
];

/// Every violation found (at most `SHOWN` per rule), in one read-only snapshot; empty when
/// the database is consistent.
pub fn run(conn: &mut DbConnection) -> QueryResult<Vec<Violation>> {
    crate::db::read_snapshot(conn, |conn| {
        let mut found = Vec::new();
        for s in diesel::sql_query(STOCK).load::<Stock>(conn)? {
            if s.shards + s.unreleased + s.held != s.total {
                found.push(Violation {
                    rule: "stock-conservation",
                    detail: format!(
                        "campaign {}: total_stock {} ≠ shards {} + unreleased {} + held by vouchers {}",
                        s.id, s.total, s.shards, s.unreleased, s.held
                    ),
                });
            }
        }
        for (rule, query) in PLACES {
            let query = query.replace("{TRAIL_START}", TRAIL_START);
            let rows: Vec<Place> =
                diesel::sql_query(format!("{query} ORDER BY 1 LIMIT {SHOWN}")).load(conn)?;
            found.extend(rows.into_iter().map(|p| Violation { rule, detail: p.what }));
        }
        Ok(found)
    })
}
