//! What the office's CSV exports read: one page of rows per call, by keyset, so an
//! export of 100,000 rows never sits in memory.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{memberships, redemptions, stations, unions, users, vouchers};
use crate::db::DbConnection;
use crate::domain::ids::{CampaignId, MembershipId, RedemptionId, UserId, VoucherId};
use crate::domain::phone::Phone;
use crate::domain::profile::Occupation;
use crate::domain::vouchers::VoucherStatus;

/// Rows per page (and per streamed chunk).
pub const PAGE: i64 = 1000;

/// `(id, status, issued_at, expires_at, holder, phone, member_no, redeemed_at, station)`
pub type VoucherRow = (
    VoucherId,
    VoucherStatus,
    NaiveDateTime,
    NaiveDateTime,
    String,
    Phone,
    Option<String>,
    Option<NaiveDateTime>,
    Option<String>,
);

/// A campaign's vouchers after `after`, by id, with holder, member number and the live
/// redemption's time and station name.
pub fn vouchers(
    conn: &mut DbConnection,
    campaign: &CampaignId,
    after: Option<&VoucherId>,
) -> QueryResult<Vec<VoucherRow>> {
    let mut q = vouchers::table
        .inner_join(users::table.on(users::id.eq(vouchers::user_id)))
        .left_join(
            memberships::table.on(memberships::user_id
                .eq(vouchers::user_id)
                .and(memberships::ended_at.is_null())),
        )
        .left_join(
            redemptions::table.on(redemptions::voucher_id
                .eq(vouchers::id)
                .and(redemptions::reversed_at.is_null())),
        )
        .left_join(stations::table.on(stations::id.eq(redemptions::station_id)))
        .filter(vouchers::campaign_id.eq(campaign))
        .select((
            vouchers::id,
            vouchers::status,
            vouchers::issued_at,
            vouchers::expires_at,
            users::name,
            users::phone,
            memberships::member_no.nullable(),
            redemptions::redeemed_at.nullable(),
            stations::name.nullable(),
        ))
        .order(vouchers::id.asc())
        .limit(PAGE)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(vouchers::id.gt(after));
    }
    q.load(conn)
}

/// `(id, voucher, holder, phone, station, counter id, redeemed_at, reversed_at, reason)`
pub type RedemptionRow = (
    RedemptionId,
    VoucherId,
    String,
    Phone,
    String,
    UserId,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<String>,
);

/// A campaign's redemptions (reversed ones too) after `after`, by id.
pub fn redemptions(
    conn: &mut DbConnection,
    campaign: &CampaignId,
    after: Option<&RedemptionId>,
) -> QueryResult<Vec<RedemptionRow>> {
    let mut q = redemptions::table
        .inner_join(vouchers::table.on(vouchers::id.eq(redemptions::voucher_id)))
        .inner_join(users::table.on(users::id.eq(vouchers::user_id)))
        .inner_join(stations::table.on(stations::id.eq(redemptions::station_id)))
        .filter(redemptions::campaign_id.eq(campaign))
        .select((
            redemptions::id,
            redemptions::voucher_id,
            users::name,
            users::phone,
            stations::name,
            redemptions::counter_id,
            redemptions::redeemed_at,
            redemptions::reversed_at,
            redemptions::reversal_reason,
        ))
        .order(redemptions::id.asc())
        .limit(PAGE)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(redemptions::id.gt(after));
    }
    q.load(conn)
}

/// Names of accounts (the counters in a page of redemptions).
pub fn names(conn: &mut DbConnection, ids: &[UserId]) -> QueryResult<Vec<(UserId, String)>> {
    users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::name))
        .load(conn)
}

/// `(membership, member_no, name, phone, union name, occupation, region, since, hardship, verified)`
pub type MemberRow = (
    MembershipId,
    String,
    String,
    Phone,
    String,
    Option<Occupation>,
    Option<String>,
    NaiveDateTime,
    bool,
    bool,
);

/// Current members of the unions under `union_path`, by membership id.
pub fn members(
    conn: &mut DbConnection,
    union_path: &str,
    after: Option<&MembershipId>,
) -> QueryResult<Vec<MemberRow>> {
    let mut q = memberships::table
        .inner_join(users::table.on(users::id.eq(memberships::user_id)))
        .inner_join(unions::table.on(unions::id.eq(memberships::union_id)))
        .filter(memberships::ended_at.is_null())
        .filter(unions::path.like(format!("{union_path}%")))
        .select((
            memberships::id,
            memberships::member_no,
            users::name,
            users::phone,
            unions::name,
            users::occupation,
            users::region_code,
            memberships::since,
            users::hardship_archived,
            users::occupation_verified,
        ))
        .order(memberships::id.asc())
        .limit(PAGE)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(memberships::id.gt(after));
    }
    q.load(conn)
}
