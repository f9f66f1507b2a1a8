//! Allocation (精准发放) queries: vouchers issued in bulk, one per admitted worker, and
//! the units they take from the campaign's shards.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{campaign_stock_shards as shards, campaigns, vouchers};
use crate::db::DbConnection;
use crate::domain::campaigns::{Campaign, CampaignMode, CampaignStatus};
use crate::domain::ids::{CampaignId, UserId, VoucherId};
use crate::domain::voucher_code::VoucherKeys;
use crate::domain::vouchers::VoucherStatus;

/// Which of `users` (a page) hold a voucher of the campaign already, in any status: a
/// worker who gave an allocated voucher back is not allocated another.
pub fn holders(
    conn: &mut DbConnection,
    campaign: &CampaignId,
    users: &[UserId],
) -> QueryResult<HashSet<UserId>> {
    let held: Vec<UserId> = vouchers::table
        .filter(vouchers::campaign_id.eq(campaign))
        .filter(vouchers::user_id.eq_any(users))
        .select(vouchers::user_id)
        .load(conn)?;
    Ok(held.into_iter().collect())
}

/// Issues one voucher (`claim_no` 1) to each of `users`. The unique key `(campaign_id,
/// user_id, claim_no)` decides: a worker who got one from a concurrent or an earlier run
/// is skipped by `ON CONFLICT DO NOTHING`, so no run can issue anyone a second one.
/// Returns the vouchers this call issued. Every allocated unit is booked on shard 0 (a
/// returned unit goes back there); `take_units` takes them from whichever shards hold
/// them. Call inside a write transaction, with `take_units` for the count returned.
pub fn issue(
    conn: &mut DbConnection,
    campaign: &Campaign,
    users: &[UserId],
    keys: &VoucherKeys,
    now: NaiveDateTime,
) -> QueryResult<Vec<(VoucherId, UserId)>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let expires = campaign.expiry_for(now);
    let rows: Vec<_> = users
        .iter()
        .map(|user| {
            let id = VoucherId::generate();
            let code_hash = keys.lookup_hash(&keys.code_for(&id));
            (
                vouchers::id.eq(id),
                vouchers::campaign_id.eq(&campaign.id),
                vouchers::user_id.eq(user),
                vouchers::claim_no.eq(1),
                vouchers::code_hash.eq(code_hash),
                vouchers::stock_shard.eq(0),
                vouchers::status.eq(VoucherStatus::Issued),
                vouchers::issued_at.eq(now),
                vouchers::expires_at.eq(expires),
            )
        })
        .collect();
    let insert = diesel::insert_into(vouchers::table)
        .values(rows)
        .on_conflict_do_nothing()
        .returning((vouchers::id, vouchers::user_id));
    // Diesel's multi-backend connection has no ON CONFLICT; both backends do.
    let issued: Vec<(String, String)> = match conn {
        DbConnection::Postgres(pg) => insert.get_results(pg)?,
        DbConnection::Sqlite(lite) => insert.get_results(lite)?,
    };
    issued
        .into_iter()
        .map(
            |(voucher, user)| match (VoucherId::parse(&voucher), UserId::parse(&user)) {
                (Some(v), Some(u)) => Ok((v, u)),
                _ => Err(diesel::result::Error::DeserializationError(
                    "an issued voucher's ids are not UUIDs".into(),
                )),
            },
        )
        .collect()
}

/// Takes `n` units from the campaign's shards, each shard by a conditional update that
/// cannot go below zero; false (and nothing to keep: the caller rolls back) when the
/// shards hold fewer than `n`.
pub fn take_units(conn: &mut DbConnection, campaign: &CampaignId, n: i64) -> QueryResult<bool> {
    let mut needed = n;
    // A concurrent run can empty a shard between the read and the update: read again.
    for _ in 0..8 {
        if needed <= 0 {
            return Ok(true);
        }
        let stocked: Vec<(i32, i64)> = shards::table
            .filter(shards::campaign_id.eq(campaign))
            .filter(shards::remaining.gt(0))
            .order(shards::shard.asc())
            .select((shards::shard, shards::remaining))
            .load(conn)?;
        if stocked.iter().map(|(_, r)| r).sum::<i64>() < needed {
            return Ok(false);
        }
        for (shard, remaining) in stocked {
            let take = remaining.min(needed);
            let won = diesel::update(
                shards::table
                    .find((campaign, shard))
                    .filter(shards::remaining.ge(take)),
            )
            .set(shards::remaining.eq(shards::remaining - take))
            .execute(conn)?;
            if won == 1 {
                needed -= take;
            }
            if needed == 0 {
                return Ok(true);
            }
        }
    }
    Ok(needed <= 0)
}

/// Marks a pass as begun: the allocation is pending until a pass completes, under a new
/// generation; returns that generation.
pub fn begin(conn: &mut DbConnection, campaign: &CampaignId, now: NaiveDateTime) -> QueryResult<i32> {
    diesel::update(campaigns::table.find(campaign))
        .set((
            campaigns::allocation_pending.eq(true),
            campaigns::allocation_generation.eq(campaigns::allocation_generation + 1),
            campaigns::allocation_heartbeat.eq(now),
        ))
        .returning(campaigns::allocation_generation)
        .get_result(conn)
}

/// A batch committed: the pass is alive (the jobs leave a live pass alone).
pub fn heartbeat(conn: &mut DbConnection, campaign: &CampaignId, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(campaigns::table.find(campaign))
        .set(campaigns::allocation_heartbeat.eq(now))
        .execute(conn)?;
    Ok(())
}

/// The current generation (a pass the jobs resume takes it over).
pub fn generation(conn: &mut DbConnection, campaign: &CampaignId) -> QueryResult<i32> {
    campaigns::table
        .find(campaign)
        .select(campaigns::allocation_generation)
        .first(conn)
}

/// A pass of `generation` ended for good (done, or stopped for a reason a retry cannot
/// change): clears the pending mark, unless a newer publication or top-up began meanwhile
/// (its own pass clears it).
pub fn finish(conn: &mut DbConnection, campaign: &CampaignId, generation: i32) -> QueryResult<()> {
    diesel::update(
        campaigns::table
            .find(campaign)
            .filter(campaigns::allocation_generation.eq(generation)),
    )
    .set(campaigns::allocation_pending.eq(false))
    .execute(conn)?;
    Ok(())
}

/// Published allocate campaigns whose allocation has not finished a pass and whose last
/// batch is older than `idle_since` (a pass that crashed; at most `limit`).
pub fn pending(
    conn: &mut DbConnection,
    idle_since: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<CampaignId>> {
    campaigns::table
        .filter(campaigns::allocation_pending.eq(true))
        .filter(
            campaigns::allocation_heartbeat
                .lt(idle_since)
                .or(campaigns::allocation_heartbeat.is_null()),
        )
        .filter(campaigns::mode.eq(CampaignMode::Allocate))
        .filter(campaigns::status.eq(CampaignStatus::Published))
        .select(campaigns::id)
        .limit(limit)
        .load(conn)
}
