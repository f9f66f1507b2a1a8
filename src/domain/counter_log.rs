//! What a counter sees of its own day: the redemptions at its stations since the civil
//! day began (contract v1.1, "Pages and pictures": today's redemptions at this counter).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{campaigns, redemptions, stations, users, vouchers};
use crate::db::DbConnection;
use crate::domain::ids::{RedemptionId, StationId, VoucherId};

/// `(id, voucher, station, station name, campaign title, item, holder name, redeemed_at, reversed_at)`
pub type Row = (
    RedemptionId,
    VoucherId,
    StationId,
    String,
    String,
    String,
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

/// Redemptions at `at_stations` since `since`, newest first, at most `limit`.
pub fn since(
    conn: &mut DbConnection,
    at_stations: &[StationId],
    since: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Row>> {
    redemptions::table
        .inner_join(vouchers::table.on(vouchers::id.eq(redemptions::voucher_id)))
        .inner_join(campaigns::table.on(campaigns::id.eq(redemptions::campaign_id)))
        .inner_join(users::table.on(users::id.eq(vouchers::user_id)))
        .inner_join(stations::table.on(stations::id.eq(redemptions::station_id)))
        .filter(redemptions::station_id.eq_any(at_stations))
        .filter(redemptions::redeemed_at.ge(since))
        .order((redemptions::redeemed_at.desc(), redemptions::id.desc()))
        .limit(limit)
        .select((
            redemptions::id,
            redemptions::voucher_id,
            redemptions::station_id,
            stations::name,
            campaigns::title,
            campaigns::item_name,
            users::name,
            redemptions::redeemed_at,
            redemptions::reversed_at,
        ))
        .load(conn)
}
