//! What admins count of a campaign's vouchers. `expired` is derived here exactly
//! as `Voucher::state_at` derives it for the wallet.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::vouchers;
use crate::db::DbConnection;
use crate::domain::campaigns::{self, Campaign};
use crate::domain::ids::{CampaignId, StationId};
use crate::domain::ratings::{self, RatingSummary};
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
    /// Claims and live redemptions per hour (UTC hour starts), oldest first.
    pub timeline: Vec<HourCounts>,
    /// Live hand-overs at the door (counted in `redeemed` too), and per Beijing day:
    /// the delivery rounds (批次) as the office sees them.
    pub delivered: i64,
    pub delivered_by_day: Vec<DayCount>,
    /// Ratings of the campaign's hand-overs.
    pub rating: RatingSummary,
    pub as_of: chrono::DateTime<chrono::Utc>,
}

/// One hour of a campaign: `hour` is the RFC 3339 UTC start of the hour.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HourCounts {
    pub hour: String,
    pub claimed: i64,
    pub redeemed: i64,
}

#[derive(QueryableByName)]
struct Bucket {
    #[diesel(sql_type = diesel::sql_types::Text)]
    hour: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Counts of `column` of `table` per hour. Both databases print a timestamp as
/// `YYYY-MM-DD HH:MM:SS…`, so its first 13 characters name the hour; the campaign id is
/// a parsed UUID, safe to write into the statement.
fn per_hour(
    conn: &mut DbConnection,
    table: &str,
    column: &str,
    filter: &str,
    c: &CampaignId,
) -> QueryResult<Vec<Bucket>> {
    diesel::sql_query(format!(
        "SELECT substr(CAST({column} AS TEXT), 1, 13) AS hour, COUNT(*) AS n FROM {table} \
         WHERE campaign_id = '{c}' {filter} GROUP BY 1 ORDER BY 1 LIMIT 10000"
    ))
    .load(conn)
}

/// The campaign's claims and redemptions per hour.
pub fn timeline(conn: &mut DbConnection, c: &CampaignId) -> QueryResult<Vec<HourCounts>> {
    let mut hours = std::collections::BTreeMap::<String, (i64, i64)>::new();
    for b in per_hour(conn, "vouchers", "issued_at", "", c)? {
        hours.entry(b.hour).or_default().0 += b.n;
    }
    for b in per_hour(conn, "redemptions", "redeemed_at", "AND reversed_at IS NULL", c)? {
        hours.entry(b.hour).or_default().1 += b.n;
    }
    Ok(hours
        .into_iter()
        .map(|(h, (claimed, redeemed))| HourCounts {
            hour: format!(
                "{}T{}:00:00Z",
                &h[..h.len().min(10)],
                h.get(11..13).unwrap_or("00")
            ),
            claimed,
            redeemed,
        })
        .collect())
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct StationRedemptions {
    pub station_id: StationId,
    pub redeemed: i64,
    /// Ratings of the hand-overs from this station.
    pub rating: RatingSummary,
}

/// One civil (Beijing) day: `date` is `YYYY-MM-DD`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DayCount {
    pub date: String,
    pub delivered: i64,
}

/// Live deliveries per civil day, folded from the hourly counts (a civil day is a
/// whole number of UTC hours from here, so no hour straddles two days).
fn deliveries_by_day(conn: &mut DbConnection, c: &CampaignId) -> QueryResult<Vec<DayCount>> {
    let filter = "AND reversed_at IS NULL AND method = 'delivery'";
    let mut days = std::collections::BTreeMap::<String, i64>::new();
    for b in per_hour(conn, "redemptions", "redeemed_at", filter, c)? {
        let hour = chrono::NaiveDateTime::parse_from_str(&format!("{}:00:00", b.hour), "%Y-%m-%d %H:%M:%S")
            .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
        *days
            .entry(crate::domain::civil::date_of(hour).to_string())
            .or_default() += b.n;
    }
    Ok(days
        .into_iter()
        .map(|(date, delivered)| DayCount { date, delivered })
        .collect())
}

pub fn campaign_stats(
    conn: &mut DbConnection,
    c: &Campaign,
    now: NaiveDateTime,
) -> QueryResult<CampaignStats> {
    let counts = counts(conn, &c.id, now)?;
    let remaining = campaigns::remaining(conn, c, now)?;
    let (unreleased, next_release_at) = releases::unreleased(conn, &c.id)?;
    let rated = ratings::counts(conn, &c.id)?;
    let station_rating = |s: &StationId| {
        let scores = rated.iter().filter(|(at, _, _)| at.as_ref() == Some(s));
        RatingSummary::of(scores.map(|(_, score, n)| (*score, *n)))
    };
    let by_station = redemptions::live_by_station(conn, &c.id)?
        .into_iter()
        .map(|(station_id, redeemed)| StationRedemptions {
            rating: station_rating(&station_id),
            station_id,
            redeemed,
        })
        .collect();
    let delivered_by_day = deliveries_by_day(conn, &c.id)?;
    Ok(CampaignStats {
        campaign_id: c.id.clone(),
        total_stock: c.total_stock,
        remaining,
        unreleased,
        next_release_at: next_release_at.map(crate::domain::utc),
        counts,
        by_station,
        timeline: timeline(conn, &c.id)?,
        delivered: delivered_by_day.iter().map(|d| d.delivered).sum(),
        delivered_by_day,
        rating: RatingSummary::of(rated.iter().map(|(_, score, n)| (*score, *n))),
        as_of: crate::domain::utc(now),
    })
}
