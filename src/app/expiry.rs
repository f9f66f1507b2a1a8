//! What time does to vouchers: an expired voucher's unit goes back to stock (and its
//! holder is told), and holders are reminded before their voucher expires — by the jobs
//! on every instance and by admins. Every step is a conditional write, so two instances,
//! or a claim and a job, never do one twice.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::notices;
use crate::auth::scope::{AdminScope, ScopeError};
use crate::db::schema::{voucher_reminders, vouchers};
use crate::db::DbConnection;
use crate::domain::ids::{CampaignId, VoucherId};
use crate::domain::vouchers::{self as voucher_model, Voucher, VoucherStatus};

/// Puts an expired voucher's unit back and tells its holder, once. Call inside a write
/// transaction; false when someone else already did.
pub fn return_voucher(conn: &mut DbConnection, voucher: &Voucher, now: NaiveDateTime) -> QueryResult<bool> {
    if !voucher_model::return_expired(conn, voucher, now)? {
        return Ok(false);
    }
    notices::expired(conn, &voucher.id, now)?;
    let data = serde_json::json!({"campaign_id": voucher.campaign_id, "stock_returned": true});
    super::changes::voucher_changed(conn, None, "voucher.expired", &voucher.id, data, now)?;
    Ok(true)
}

/// Issued, unexpired vouchers that reach the `hours`-before-expiry stage at `now` and were
/// not reminded at that stage (at most `limit`).
pub fn due_reminders(
    conn: &mut DbConnection,
    hours: u32,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<VoucherId>> {
    let horizon = now + Duration::hours(i64::from(hours));
    let stage = i32::try_from(hours).unwrap_or(i32::MAX);
    vouchers::table
        .filter(vouchers::status.eq(VoucherStatus::Issued))
        .filter(vouchers::expires_at.gt(now))
        .filter(vouchers::expires_at.le(horizon))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            voucher_reminders::table
                .filter(voucher_reminders::voucher_id.eq(vouchers::id))
                .filter(voucher_reminders::stage.eq(stage)),
        )))
        .order(vouchers::expires_at.asc())
        .limit(limit)
        .select(vouchers::id)
        .load(conn)
}

/// Sends the `hours` stage reminder for one voucher, once: the (voucher, stage) key is the
/// fence. Call inside its own write transaction.
pub fn remind_stage(
    conn: &mut DbConnection,
    voucher: &VoucherId,
    hours: u32,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    if !mark_stage(conn, voucher, hours, now)? {
        return Ok(false);
    }
    notices::expiring(conn, voucher, now)?;
    Ok(true)
}

/// Records a stage as done without sending it (a nearer stage was just sent).
pub fn skip_stage(
    conn: &mut DbConnection,
    voucher: &VoucherId,
    hours: u32,
    now: NaiveDateTime,
) -> QueryResult<()> {
    mark_stage(conn, voucher, hours, now).map(|_| ())
}

/// Writes the (voucher, stage) key; false when it was there already (another instance).
fn mark_stage(
    conn: &mut DbConnection,
    voucher: &VoucherId,
    hours: u32,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let stage = i32::try_from(hours).unwrap_or(i32::MAX);
    // A savepoint: on PostgreSQL a lost race must not abort the whole transaction.
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(voucher_reminders::table)
            .values((
                voucher_reminders::voucher_id.eq(voucher),
                voucher_reminders::stage.eq(stage),
                voucher_reminders::sent_at.eq(now),
            ))
            .execute(conn)
    });
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if crate::db::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// An admin reminds every holder of an issued, unexpired voucher of the campaign, at most
/// once per voucher per 24 hours (a conditional update of `admin_reminded_at`). Returns how
/// many were queued. Call inside a write transaction.
pub fn admin_remind(
    conn: &mut DbConnection,
    scope: &AdminScope,
    campaign: &CampaignId,
    now: NaiveDateTime,
) -> Result<usize, ScopeError> {
    scope.campaign(conn, campaign)?;
    let quiet_since = now - Duration::hours(24);
    let open: Vec<VoucherId> = vouchers::table
        .filter(vouchers::campaign_id.eq(campaign))
        .filter(vouchers::status.eq(VoucherStatus::Issued))
        .filter(vouchers::expires_at.gt(now))
        .select(vouchers::id)
        .load(conn)?;
    let mut queued = 0;
    for id in open {
        let won = diesel::update(
            vouchers::table.find(&id).filter(
                vouchers::admin_reminded_at
                    .is_null()
                    .or(vouchers::admin_reminded_at.le(quiet_since)),
            ),
        )
        .set(vouchers::admin_reminded_at.eq(now))
        .execute(conn)?;
        if won == 1 {
            notices::expiring(conn, &id, now)?;
            queued += 1;
        }
    }
    Ok(queued)
}
