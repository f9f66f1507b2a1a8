//! What admins count and list of a campaign's vouchers. `expired` is derived here exactly
//! as `Voucher::status_at` derives it for the wallet.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{users, vouchers};
use crate::db::DbConnection;
use crate::domain::ids::{CampaignId, StationId, VoucherId};
use crate::domain::phone::Phone;
use crate::domain::vouchers::Voucher;

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
    let by_status: Vec<(String, i64)> = vouchers::table
        .filter(vouchers::campaign_id.eq(campaign))
        .group_by(vouchers::status)
        .select((vouchers::status, diesel::dsl::count_star()))
        .load(conn)?;
    let expired: i64 = vouchers::table
        .filter(vouchers::campaign_id.eq(campaign))
        .filter(vouchers::status.eq("issued"))
        .filter(vouchers::expires_at.le(now))
        .count()
        .get_result(conn)?;
    let mut counts = Counts {
        expired,
        ..Counts::default()
    };
    for (status, n) in by_status {
        counts.claimed += n;
        match status.as_str() {
            "issued" => counts.issued_unredeemed = n - expired,
            "redeemed" => counts.redeemed = n,
            "cancelled" => counts.cancelled = n,
            "revoked" => counts.revoked = n,
            _ => {}
        }
    }
    Ok(counts)
}

/// Redemptions per station, for the stats view.
pub fn redeemed_by_station(
    conn: &mut DbConnection,
    campaign: &CampaignId,
) -> QueryResult<Vec<(StationId, i64)>> {
    let rows: Vec<(Option<StationId>, i64)> = vouchers::table
        .filter(vouchers::campaign_id.eq(campaign))
        .filter(vouchers::status.eq("redeemed"))
        .group_by(vouchers::redeemed_station_id)
        .select((vouchers::redeemed_station_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(s, n)| s.map(|s| (s, n))).collect())
}

/// A campaign's vouchers in one (effective) status with their holders, newest first:
/// the admin's list for chasing 已领取未核销.
pub fn of_campaign(
    conn: &mut DbConnection,
    campaign: &CampaignId,
    status: &str,
    now: NaiveDateTime,
    before: Option<&VoucherId>,
    limit: i64,
) -> QueryResult<Vec<(Voucher, String, Phone)>> {
    let mut query = vouchers::table
        .inner_join(users::table.on(users::id.eq(vouchers::user_id)))
        .filter(vouchers::campaign_id.eq(campaign))
        .select((Voucher::as_select(), users::name, users::phone))
        .order(vouchers::id.desc())
        .limit(limit)
        .into_boxed();
    query = match status {
        "issued" => query
            .filter(vouchers::status.eq("issued"))
            .filter(vouchers::expires_at.gt(now)),
        "expired" => query
            .filter(vouchers::status.eq("issued"))
            .filter(vouchers::expires_at.le(now)),
        other => query.filter(vouchers::status.eq(other.to_owned())),
    };
    if let Some(before) = before {
        query = query.filter(vouchers::id.lt(before));
    }
    query.load(conn)
}
