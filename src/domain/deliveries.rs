//! What a delivery round reads: the delivery campaigns at a counter's stations and the
//! vouchers still to hand over, with the holder's address (personal data: only these
//! counters see it, masked names and phones beside it).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{campaign_stations, campaigns, users, vouchers};
use crate::db::DbConnection;
use crate::domain::campaign_modes::Fulfilment;
use crate::domain::campaigns::CampaignStatus;
use crate::domain::ids::{CampaignId, StationId, VoucherId};
use crate::domain::phone::Phone;
use crate::domain::vouchers::VoucherStatus;

/// `(voucher, campaign, campaign title, item, holder name, holder phone, address,
/// expires_at)`.
pub type ToDeliver = (
    VoucherId,
    CampaignId,
    String,
    String,
    String,
    Phone,
    Option<String>,
    NaiveDateTime,
);

/// Delivery campaigns (not drafts) redeemable at any of `stations`.
pub fn campaigns_at(conn: &mut DbConnection, stations: &[StationId]) -> QueryResult<Vec<CampaignId>> {
    let mut ids: Vec<CampaignId> = campaign_stations::table
        .inner_join(campaigns::table)
        .filter(campaign_stations::station_id.eq_any(stations))
        .filter(campaigns::fulfilment.eq(Fulfilment::Delivery))
        .filter(campaigns::status.ne(CampaignStatus::Draft))
        .select(campaigns::id)
        .load(conn)?;
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// Issued, unexpired vouchers of `campaigns` after `after`, oldest first.
pub fn to_deliver(
    conn: &mut DbConnection,
    of: &[CampaignId],
    after: Option<&VoucherId>,
    limit: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<ToDeliver>> {
    let mut query = vouchers::table
        .inner_join(campaigns::table)
        .inner_join(users::table.on(users::id.eq(vouchers::user_id)))
        .filter(vouchers::campaign_id.eq_any(of))
        .filter(vouchers::status.eq(VoucherStatus::Issued))
        .filter(vouchers::expires_at.gt(now))
        .select((
            vouchers::id,
            vouchers::campaign_id,
            campaigns::title,
            campaigns::item_name,
            users::name,
            users::phone,
            users::address,
            vouchers::expires_at,
        ))
        .order(vouchers::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(vouchers::id.gt(after));
    }
    query.load(conn)
}
