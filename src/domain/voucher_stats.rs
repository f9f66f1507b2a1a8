//! What admins count of a campaign's vouchers. `expired` is derived here exactly
//! as `Voucher::state_at` derives it for the wallet.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::vouchers;
use crate::db::DbConnection;
use crate::domain::campaigns::{self, Campaign};
use crate::domain::ids::{CampaignId, StationId};
use crate::domain::redemptions;
use crate::domain::releases;
use crate::domain::vouchers::VoucherStatus;

/// Counts by status, `expired` derived the same way the wallet derives it.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Counts {
    pub claimed: i64,
    pub redeemed: i64,
    pub issued_unredeemed: i64,
    pub expired: i64,
    pub cancelled: i64,
    pub revoked: i64,
}

pub fn counts(conn: &mut DbConnection, campaign: &CampaignId, now: NaiveDateTime) -> QueryResult<Counts> {
    let by_status: Vec<(VoucherStatus, i64)> = vouchers::table
        .filter(vouchers::campaign_id.eq(campaign))
        .group_by(vouchers::status)
        .select((vouchers::status, diesel::dsl::count_star()))
        .load(conn)?;
    let expired: i64 = vouchers::table
        .filter(vouchers::campaign_id.eq(campaign))
        .filter(vouchers::status.eq(VoucherStatus::Issued))
        .filter(vouchers::expires_at.le(now))
        .count()
        .get_result(conn)?;
    let mut counts = Counts {
        expired,
        ..Counts::default()
    };
    for (status, n) in by_status {
        counts.claimed += n;
        match status {
            VoucherStatus::Issued => counts.issued_unredeemed = n - expired,
            VoucherStatus::Redeemed => counts.redeemed = n,
            VoucherStatus::Cancelled => counts.cancelled = n,
            VoucherStatus::Revoked => counts.revoked = n,
        }
    }
    Ok(counts)
}

/// A campaign's figures at one instant (`GET /admin/campaigns/{id}/stats`).
/// `remaining` is the one definition every endpoint shows (`campaigns::remaining`:
/// released units not held by an issued, unexpired voucher or a redeemed one), so
/// `total_stock = remaining + unreleased + issued_unredeemed + redeemed` (contract v1.1).
#[derive(Debug, Clone, serde::Serialize)]
pub struct CampaignStats {
    pub campaign_id: CampaignId,
    pub total_stock: i64,
    pub remaining: i64,
    /// Units in batches not released yet, and when the next one comes.
    pub unreleased: i64,
    pub next_release_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(flatten)]
    pub counts: Counts,
    /// Live redemptions per station, read from `redemptions` (the one record).
    pub by_station: Vec<StationRedemptions>,
    pub as_of: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct StationRedemptions {
    pub station_id: StationId,
    pub redeemed: i64,
}

pub fn campaign_stats(
    conn: &mut DbConnection,
    c: &Campaign,
    now: NaiveDateTime,
) -> QueryResult<CampaignStats> {
    let counts = counts(conn, &c.id, now)?;
    let remaining = campaigns::remaining(conn, c, now)?;
    let (unreleased, next_release_at) = releases::unreleased(conn, &c.id)?;
    let by_station = redemptions::live_by_station(conn, &c.id)?
        .into_iter()
        .map(|(station_id, redeemed)| StationRedemptions { station_id, redeemed })
        .collect();
    Ok(CampaignStats {
        campaign_id: c.id.clone(),
        total_stock: c.total_stock,
        remaining,
        unreleased,
        next_release_at: next_release_at.map(crate::domain::utc),
        counts,
        by_station,
        as_of: crate::domain::utc(now),
    })
}
