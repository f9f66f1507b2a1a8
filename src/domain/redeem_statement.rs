//! A counter's redemption in one PostgreSQL statement: the fence (`issued → redeemed`),
//! the redemption record and the audit entry, each depending on the one before, so the
//! statement writes all or nothing.
//!
//! Why: as with the claim (`claim_statement`), round trips and re-planned statements cost
//! PostgreSQL more CPU than the work itself. It covers the common case only and declines
//! the rest, which `redemptions::redeem` then decides in a transaction: the voucher no
//! longer `issued` or expired (a refusal with its reason), a live webhook endpoint (events to
//! address), and a second live redemption (the partial unique index fails the statement).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::PgConnection;

use crate::db::fixed::{Bind, Fixed};
use crate::db::is_unique_violation;
use crate::domain::audit::{self, Audit};
use crate::domain::ids::{RedemptionId, UnionId};
use crate::domain::redemptions::{Redeem, Redemption};

const REDEEM: &str = "\
WITH quiet AS (
  SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM webhook_endpoints WHERE deleted_at IS NULL)
), won AS (
  UPDATE vouchers SET status = 'redeemed'
  WHERE id = ? AND status = 'issued' AND expires_at > ? AND EXISTS (SELECT 1 FROM quiet)
  RETURNING id, campaign_id
), r AS (
  INSERT INTO redemptions (id, voucher_id, campaign_id, station_id, counter_id, terminal_id, redeemed_at, method)
  SELECT ?, id, campaign_id, ?, ?, ?, ?, ? FROM won
  RETURNING voucher_id
), a AS (
  INSERT INTO audit_events (id, actor_id, action, subject_type, subject_id, union_id, detail, created_at, mac)
  SELECT ?, ?, 'voucher.redeemed', 'voucher', voucher_id, ?, ?, ?, ? FROM r
)
SELECT voucher_id FROM r";

#[derive(QueryableByName)]
struct Written {
    #[diesel(sql_type = diesel::sql_types::Text)]
    #[allow(dead_code)]
    voucher_id: String,
}

/// Redeems `r.voucher` (of a campaign of `union`) in one statement. `Ok(None)`: declined,
/// nothing written (see the module's list). Run it on its own (autocommit) or inside the
/// transaction that records the idempotent answer.
pub fn redeem(
    conn: &mut PgConnection,
    r: Redeem<'_>,
    union: &UnionId,
    now: NaiveDateTime,
) -> QueryResult<Option<Redemption>> {
    let id = RedemptionId::generate();
    let method = r.method.as_str();
    let data = serde_json::json!({"redemption_id": id, "station_id": r.station, "method": method});
    let entry = audit::sign(
        Audit::new(
            Some(r.counter.as_str()),
            "voucher.redeemed",
            "voucher",
            r.voucher.id.as_str(),
        )
        .union(union)
        .data(data),
        now,
    );
    let binds = vec![
        Bind::Text(r.voucher.id.as_str()),
        Bind::Time(now),
        Bind::Text(id.as_str()),
        Bind::Text(r.station.as_str()),
        Bind::Text(r.counter.as_str()),
        Bind::NullableText(r.terminal),
        Bind::Time(now),
        Bind::Text(method),
        Bind::Text(entry.id.as_str()),
        Bind::Text(r.counter.as_str()),
        Bind::NullableText(entry.union_id.as_deref()),
        Bind::Text(&entry.detail),
        Bind::Time(now),
        Bind::Text(&entry.mac),
    ];
    let written: QueryResult<Option<Written>> = Fixed::new(REDEEM, binds).get_result(conn).optional();
    match written {
        Ok(Some(_)) => {}
        Ok(None) => return Ok(None),
        Err(e) if is_unique_violation(&e) => return Ok(None),
        Err(e) => return Err(e),
    }
    Ok(Some(Redemption::written(id, &r, now)))
}
