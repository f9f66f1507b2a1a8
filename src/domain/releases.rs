//! Stock released in batches (contract v1.1, "Campaigns: validity, batches, reclaim"):
//! 广西's two deliveries, or 100 units every morning at 10:00. Each batch is a row of
//! `campaign_stock_releases`; releasing it is a conditional update of its `released_at`
//! in the same transaction that adds its units to the shards, so a batch is released
//! exactly once however many instances (or claims) reach for it at the same moment.
//! `campaigns.next_release_at` caches the earliest batch still to come, so a claim can
//! see in the row it already read whether a batch is due and release it itself.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::{campaign_stock_releases as releases, campaigns};
use crate::db::DbConnection;
use crate::domain::campaigns::CampaignStatus;
use crate::domain::civil::StartInput;
use crate::domain::ids::CampaignId;
use crate::domain::invalid::Invalid;
use crate::domain::stock::add_stock;

/// Most batches one campaign may have (a daily release for about three years).
pub const MAX_RELEASES: usize = 1000;

/// A batch as an admin writes it: `{at, quantity}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseInput {
    pub at: StartInput,
    pub quantity: i64,
}

/// A batch as stored and shown.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = releases)]
pub struct StockRelease {
    pub seq: i32,
    pub release_at: NaiveDateTime,
    pub quantity: i64,
    pub released_at: Option<NaiveDateTime>,
}

/// Batches add up to the campaign's stock, each of at least one unit, at most
/// `MAX_RELEASES`, none after claims end.
pub fn validate(
    batches: &[ReleaseInput],
    total_stock: i64,
    claim_ends_at: NaiveDateTime,
) -> Result<(), Invalid> {
    if batches.is_empty() || batches.len() > MAX_RELEASES {
        return Err(Invalid::new(
            "stock_releases",
            format!("应有 1 到 {MAX_RELEASES} 批"),
        ));
    }
    for (i, b) in batches.iter().enumerate() {
        if b.quantity < 1 {
            return Err(Invalid::new(
                format!("stock_releases[{i}].quantity"),
                "每批至少 1 份",
            ));
        }
        if b.at.0 >= claim_ends_at {
            return Err(Invalid::new(
                format!("stock_releases[{i}].at"),
                "放量时间须早于领取截止时间",
            ));
        }
    }
    let sum = batches
        .iter()
        .try_fold(0_i64, |acc, b| acc.checked_add(b.quantity));
    if sum != Some(total_stock) {
        return Err(Invalid::new(
            "stock_releases",
            format!("各批数量之和须等于总库存 {total_stock}"),
        ));
    }
    Ok(())
}

/// A draft's batches, replaced wholesale (nothing is released while a draft).
pub fn replace(conn: &mut DbConnection, id: &CampaignId, batches: &[ReleaseInput]) -> QueryResult<()> {
    diesel::delete(releases::table.filter(releases::campaign_id.eq(id))).execute(conn)?;
    for (seq, b) in (0_i32..).zip(batches) {
        diesel::insert_into(releases::table)
            .values((
                releases::campaign_id.eq(id),
                releases::seq.eq(seq),
                releases::release_at.eq(b.at.0),
                releases::quantity.eq(b.quantity),
            ))
            .execute(conn)?;
    }
    refresh_next(conn, id)
}

pub fn list(conn: &mut DbConnection, id: &CampaignId) -> QueryResult<Vec<StockRelease>> {
    releases::table
        .filter(releases::campaign_id.eq(id))
        .order(releases::seq.asc())
        .select(StockRelease::as_select())
        .load(conn)
}

/// Units not released yet, and when the next batch comes.
pub fn unreleased(conn: &mut DbConnection, id: &CampaignId) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    let pending: Vec<(i64, NaiveDateTime)> = releases::table
        .filter(releases::campaign_id.eq(id))
        .filter(releases::released_at.is_null())
        .select((releases::quantity, releases::release_at))
        .load(conn)?;
    Ok((
        pending.iter().map(|(q, _)| q).sum(),
        pending.iter().map(|(_, at)| *at).min(),
    ))
}

/// Releases every batch of a published or paused campaign that is due at `now`; returns
/// the units released. Call inside a write transaction.
pub fn release_due(conn: &mut DbConnection, id: &CampaignId, now: NaiveDateTime) -> QueryResult<i64> {
    release_until(conn, id, Some(now), now)
}

/// Releases every batch at once, due or not (an allocation hands out all its stock at
/// publication). Call inside a write transaction.
pub fn release_all(conn: &mut DbConnection, id: &CampaignId, now: NaiveDateTime) -> QueryResult<i64> {
    release_until(conn, id, None, now)
}

fn release_until(
    conn: &mut DbConnection,
    id: &CampaignId,
    cutoff: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    let mut due = releases::table
        .filter(releases::campaign_id.eq(id))
        .filter(releases::released_at.is_null())
        .into_boxed();
    if let Some(cutoff) = cutoff {
        due = due.filter(releases::release_at.le(cutoff));
    }
    let due: Vec<(i32, i64)> = due.select((releases::seq, releases::quantity)).load(conn)?;
    let mut released = 0;
    for (seq, quantity) in due {
        let won = diesel::update(
            releases::table
                .find((id, seq))
                .filter(releases::released_at.is_null()),
        )
        .set(releases::released_at.eq(now))
        .execute(conn)?;
        if won == 1 {
            add_stock(conn, id, quantity)?;
            released += quantity;
        }
    }
    if released > 0 {
        refresh_next(conn, id)?;
        let union: crate::domain::ids::UnionId = crate::db::schema::campaigns::table
            .find(id)
            .select(crate::db::schema::campaigns::union_id)
            .first(conn)?;
        let entry =
            crate::domain::audit::Audit::new(None, "campaign.batch_released", "campaign", id.as_str())
                .union(&union)
                .data(serde_json::json!({"quantity": released}));
        crate::domain::audit::record(conn, entry, now)?;
    }
    Ok(released)
}

/// Published or paused campaigns with a batch due at `now` (at most `limit`).
pub fn due_campaigns(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<CampaignId>> {
    campaigns::table
        .filter(campaigns::next_release_at.le(now))
        .filter(campaigns::status.eq_any([CampaignStatus::Published, CampaignStatus::Paused]))
        .select(campaigns::id)
        .limit(limit)
        .load(conn)
}

fn refresh_next(conn: &mut DbConnection, id: &CampaignId) -> QueryResult<()> {
    let (_, next) = unreleased(conn, id)?;
    diesel::update(campaigns::table.find(id))
        .set(campaigns::next_release_at.eq(next))
        .execute(conn)?;
    Ok(())
}
