//! A campaign's stock: up to `MAX_SHARDS` rows of claimable units, filled by released
//! batches and returned units, and the one definition of `remaining`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::campaign_stock_shards as shards;
use crate::db::DbConnection;
use crate::domain::campaigns::{Campaign, CampaignFields};
use crate::domain::ids::CampaignId;
use crate::domain::releases::{self, ReleaseInput};

/// Stock is split over at most this many rows. Claims pick a shard at random, so N
/// concurrent claimants queue on N/16 row locks at worst instead of all on one.
pub const MAX_SHARDS: i64 = 16;

/// A shard for a claim to start from: one of those laid out for `campaign`, at random, so
/// concurrent claims spread over the shards' row locks (the claim then takes the first
/// non-empty one from there).
pub fn random_shard(campaign: &Campaign) -> i32 {
    use rand::Rng;
    let laid_out = campaign.total_stock.clamp(1, MAX_SHARDS);
    // Below MAX_SHARDS, so it fits.
    i32::try_from(rand::thread_rng().gen_range(0..laid_out)).unwrap_or(0)
}

/// Stock in batches; with none, one batch of everything at `claim_starts_at` (contract
/// v1.1). Shards start empty; publishing, the jobs and claims release what is due.
pub(crate) fn set_releases(
    conn: &mut DbConnection,
    id: &CampaignId,
    fields: &CampaignFields,
    batches: Option<&[ReleaseInput]>,
) -> QueryResult<()> {
    reset_stock(conn, id, fields.total_stock, 0)?;
    match batches {
        Some(b) => releases::replace(conn, id, b),
        None => {
            let all = ReleaseInput {
                at: crate::domain::civil::StartInput(fields.claim_starts_at),
                quantity: fields.total_stock,
            };
            releases::replace(conn, id, &[all])
        }
    }
}

/// Lays out shards for `total` units and spreads `initial` of them over them (drafts only:
/// nothing is claimed yet).
fn reset_stock(conn: &mut DbConnection, id: &CampaignId, total: i64, initial: i64) -> QueryResult<()> {
    diesel::delete(shards::table.filter(shards::campaign_id.eq(id))).execute(conn)?;
    let count = total.clamp(1, MAX_SHARDS);
    for shard in 0..count {
        let share = initial / count + i64::from(shard < initial % count);
        let shard =
            i32::try_from(shard).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        diesel::insert_into(shards::table)
            .values((
                shards::campaign_id.eq(id),
                shards::shard.eq(shard),
                shards::remaining.eq(share),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Adds `delta` units to a campaign's shards: grown stock, a released batch, a returned
/// unit's campaign. The caller keeps the books in the same transaction.
pub(crate) fn add_stock(conn: &mut DbConnection, id: &CampaignId, delta: i64) -> QueryResult<()> {
    let shard_ids: Vec<i32> = shards::table
        .filter(shards::campaign_id.eq(id))
        .select(shards::shard)
        .order(shards::shard.asc())
        .load(conn)?;
    // At most MAX_SHARDS rows, so the counts fit.
    let count = i64::try_from(shard_ids.len().max(1)).unwrap_or(MAX_SHARDS);
    for (i, shard) in (0_i64..).zip(shard_ids.iter()) {
        let share = delta / count + i64::from(i < delta % count);
        if share > 0 {
            diesel::update(shards::table.find((id, shard)))
                .set(shards::remaining.eq(shards::remaining + share))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// A deleted draft's stock and batches.
pub(crate) fn clear(conn: &mut DbConnection, id: &CampaignId) -> QueryResult<()> {
    diesel::delete(shards::table.filter(shards::campaign_id.eq(id))).execute(conn)?;
    releases::replace(conn, id, &[])
}

/// The one `remaining` of the API (campaign detail, lists, stats alike; contract v1.1):
/// released units not held by an issued, unexpired voucher or a redeemed one.
///
/// Counted from the vouchers rather than the shards: an expired voucher's unit belongs to
/// `remaining` from the instant it expires, while the shards get it back when the job (or
/// a claim that needs it) returns it; two reads of the shards and of the not-yet-returned
/// vouchers could straddle that move and count a unit twice or not at all.
pub fn remaining(conn: &mut DbConnection, c: &Campaign, now: NaiveDateTime) -> QueryResult<i64> {
    let (unreleased, _) = releases::unreleased(conn, &c.id)?;
    let held = crate::domain::vouchers::held_count(conn, &c.id, now)?;
    Ok(c.total_stock - unreleased - held)
}

/// The units in the shards: what a claim can take without returning anything first.
pub fn claimable(conn: &mut DbConnection, id: &CampaignId) -> QueryResult<i64> {
    // At most MAX_SHARDS rows; summed here because SUM(BIGINT) is NUMERIC on PostgreSQL.
    let parts: Vec<i64> = shards::table
        .filter(shards::campaign_id.eq(id))
        .select(shards::remaining)
        .load(conn)?;
    Ok(parts.iter().sum())
}
