//! The one way a voucher's state change is announced: its partner webhook events and its
//! audit entry, both in the transaction of the change (contract v1.1).

use chrono::NaiveDateTime;
use diesel::QueryResult;
use serde_json::Value;

use crate::db::DbConnection;
use crate::domain::audit::{self, Audit};
use crate::domain::ids::VoucherId;
use crate::domain::webhooks;

/// `event` is the contract's name (`voucher.claimed`, `voucher.redeemed`, …) and also the
/// audit action; `actor` is who did it (`None` for the system); `data` adds facts such as
/// a station or a reason (no personal data). Call inside the change's transaction.
pub fn voucher_changed(
    conn: &mut DbConnection,
    actor: Option<&str>,
    event: &str,
    voucher: &VoucherId,
    data: Value,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let union = webhooks::voucher_event(conn, event, voucher, now)?;
    let entry = Audit::new(actor, event, "voucher", voucher.as_str())
        .union(&union)
        .data(data);
    audit::record(conn, entry, now)
}

/// `voucher_changed` for many vouchers changed together (an allocation's batch), each
/// with `data`, in a fixed number of statements. Call inside the change's transaction.
pub fn vouchers_changed(
    conn: &mut DbConnection,
    actor: Option<&str>,
    event: &str,
    vouchers: &[VoucherId],
    data: &Value,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let unions = webhooks::vouchers_event(conn, event, vouchers, now)?;
    let entries = vouchers
        .iter()
        .zip(&unions)
        .map(|(v, union)| {
            Audit::new(actor, event, "voucher", v.as_str())
                .union(union)
                .data(data.clone())
        })
        .collect();
    audit::record_many(conn, entries, now)
}

/// Any other change's audit entry: `actor` did `action` to the `subject_type`
/// `subject_id`, readable by the office of `union`. Call inside the change's transaction.
pub fn audited(
    conn: &mut DbConnection,
    actor: Option<&str>,
    action: &str,
    subject: (&str, &str),
    union: Option<&crate::domain::ids::UnionId>,
    data: Value,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let mut entry = Audit::new(actor, action, subject.0, subject.1).data(data);
    if let Some(u) = union {
        entry = entry.union(u);
    }
    audit::record(conn, entry, now)
}
