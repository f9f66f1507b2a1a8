//! Vouchers read together with their live redemption, in one statement each, so that a
//! voucher's status and the record of when and where it was redeemed always come from
//! the same snapshot (a reversal committing between two reads cannot show `redeemed`
//! without its time and place).

use chrono::NaiveDateTime;
use diesel::dsl::{And, Eq, IsNull};
use diesel::prelude::*;

use crate::db::schema::{campaigns, redemptions, users, vouchers};
use crate::db::DbConnection;
use crate::domain::ids::{CampaignId, StationId, UnionId, UserId, VoucherId};
use crate::domain::phone::Phone;
use crate::domain::redemptions::Redeemed;
use crate::domain::vouchers::{Voucher, VoucherState, VoucherStatus, WalletEntry};

/// The join condition for a voucher's live (unreversed) redemption.
type LiveOn = And<Eq<redemptions::voucher_id, vouchers::id>, IsNull<redemptions::reversed_at>>;

fn live_on() -> LiveOn {
    redemptions::voucher_id
        .eq(vouchers::id)
        .and(redemptions::reversed_at.is_null())
}

type LiveRow = Option<(NaiveDateTime, StationId)>;

fn redeemed(row: LiveRow) -> Option<Redeemed> {
    row.map(|(at, station)| Redeemed { at, station })
}

/// How a single voucher is picked.
enum Pick<'a> {
    Id(&'a VoucherId),
    CodeHash(&'a str),
}

fn one(conn: &mut DbConnection, pick: Pick<'_>) -> QueryResult<Option<(Voucher, Option<Redeemed>)>> {
    let query = vouchers::table
        .left_join(redemptions::table.on(live_on()))
        .select((
            Voucher::as_select(),
            (redemptions::redeemed_at, redemptions::station_id).nullable(),
        ))
        .into_boxed();
    let query = match pick {
        Pick::Id(id) => query.filter(vouchers::id.eq(id)),
        Pick::CodeHash(hash) => query.filter(vouchers::code_hash.eq(hash)),
    };
    let row: Option<(Voucher, LiveRow)> = query.first(conn).optional()?;
    Ok(row.map(|(v, live)| (v, redeemed(live))))
}

/// One voucher by id, with its live redemption.
pub fn by_id(conn: &mut DbConnection, id: &VoucherId) -> QueryResult<Option<(Voucher, Option<Redeemed>)>> {
    one(conn, Pick::Id(id))
}

/// One voucher by the keyed hash of its code, with its live redemption.
pub fn by_code_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<(Voucher, Option<Redeemed>)>> {
    one(conn, Pick::CodeHash(hash))
}

/// The keyed hash of voucher `id`'s code (what the redemption lock is keyed by).
pub fn code_hash(conn: &mut DbConnection, id: &VoucherId) -> QueryResult<String> {
    vouchers::table
        .find(id)
        .select(vouchers::code_hash)
        .get_result(conn)
}

/// What the counter's read finds: the voucher, whether the counter is bound to the
/// station, whether its campaign is redeemable there, the campaign's union and its stored
/// rules.
pub type ToRedeemRow = (Voucher, bool, bool, UnionId, String);

/// A voucher to redeem at `station` by `counter`, by the keyed hash of its code, with
/// whether the counter is bound to that station, whether its campaign is redeemable
/// there, the campaign's union and its stored rules, in one statement (the counter's hot
/// path). Its redemption is not joined: an `issued` voucher has none, and a plan joining
/// the redemptions table, cached while it was small, scanned all of it on every call.
pub fn to_redeem_at(
    conn: &mut DbConnection,
    hash: &str,
    station: &StationId,
    counter: &UserId,
) -> QueryResult<Option<ToRedeemRow>> {
    use crate::db::schema::campaign_stations as cs;
    use crate::db::schema::staff_stations as ss;
    let bound = diesel::dsl::exists(
        ss::table
            .filter(ss::user_id.eq(counter))
            .filter(ss::station_id.eq(station)),
    );
    let here = diesel::dsl::exists(
        cs::table
            .filter(cs::campaign_id.eq(vouchers::campaign_id))
            .filter(cs::station_id.eq(station)),
    );
    let query = vouchers::table
        .inner_join(campaigns::table)
        .filter(vouchers::code_hash.eq(hash))
        .select((
            crate::db::direct::columns::<Voucher>(),
            bound,
            here,
            campaigns::union_id,
            campaigns::rules,
        ));
    debug_assert!(crate::db::cached_by_type(&query), "written out on every call");
    // One row at most (the code's hash is unique), so no bound `LIMIT ?`: SQLite compiles
    // a statement with one again on every call.
    crate::db::direct::get_result(conn, query).optional()
}

type WalletRow = (Voucher, String, String, LiveRow);

/// A worker's vouchers newest first (only `only` when given), with campaign title and item.
fn wallet_rows(
    conn: &mut DbConnection,
    user: &UserId,
    only: Option<&VoucherId>,
    before: Option<&VoucherId>,
    limit: i64,
) -> QueryResult<Vec<(WalletEntry, Option<Redeemed>)>> {
    let mut query = vouchers::table
        .inner_join(campaigns::table)
        .left_join(redemptions::table.on(live_on()))
        .filter(vouchers::user_id.eq(user))
        .select((
            Voucher::as_select(),
            campaigns::title,
            campaigns::item_name,
            (redemptions::redeemed_at, redemptions::station_id).nullable(),
        ))
        .order(vouchers::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(id) = only {
        query = query.filter(vouchers::id.eq(id));
    }
    if let Some(before) = before {
        query = query.filter(vouchers::id.lt(before));
    }
    let rows: Vec<WalletRow> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(v, title, item, live)| ((v, title, item), redeemed(live)))
        .collect())
}

/// The worker's wallet, newest first, any status.
pub fn wallet(
    conn: &mut DbConnection,
    user: &UserId,
    before: Option<&VoucherId>,
    limit: i64,
) -> QueryResult<Vec<(WalletEntry, Option<Redeemed>)>> {
    wallet_rows(conn, user, None, before, limit)
}

/// One voucher of its owner; another worker's is `None`, exactly like a missing one.
pub fn owned(
    conn: &mut DbConnection,
    user: &UserId,
    id: &VoucherId,
) -> QueryResult<Option<(WalletEntry, Option<Redeemed>)>> {
    Ok(wallet_rows(conn, user, Some(id), None, 1)?.pop())
}

/// A voucher in an admin's list: with its holder's name and phone (views mask them).
pub type Held = (Voucher, String, Phone, Option<Redeemed>);

/// A campaign's vouchers in one state as people see it, with their holders, newest
/// first: the admin's list for chasing 已领取未核销.
pub fn of_campaign(
    conn: &mut DbConnection,
    campaign: &CampaignId,
    state: VoucherState,
    now: NaiveDateTime,
    before: Option<&VoucherId>,
    limit: i64,
) -> QueryResult<Vec<Held>> {
    let mut query = vouchers::table
        .inner_join(users::table.on(users::id.eq(vouchers::user_id)))
        .left_join(redemptions::table.on(live_on()))
        .filter(vouchers::campaign_id.eq(campaign))
        .select((
            Voucher::as_select(),
            users::name,
            users::phone,
            (redemptions::redeemed_at, redemptions::station_id).nullable(),
        ))
        .order(vouchers::id.desc())
        .limit(limit)
        .into_boxed();
    query = match state {
        VoucherState::Issued => query
            .filter(vouchers::status.eq(VoucherStatus::Issued))
            .filter(vouchers::expires_at.gt(now)),
        VoucherState::Expired => query
            .filter(vouchers::status.eq(VoucherStatus::Issued))
            .filter(vouchers::expires_at.le(now)),
        VoucherState::Redeemed => query.filter(vouchers::status.eq(VoucherStatus::Redeemed)),
        VoucherState::Cancelled => query.filter(vouchers::status.eq(VoucherStatus::Cancelled)),
        VoucherState::Revoked => query.filter(vouchers::status.eq(VoucherStatus::Revoked)),
    };
    if let Some(before) = before {
        query = query.filter(vouchers::id.lt(before));
    }
    let rows: Vec<(Voucher, String, Phone, LiveRow)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(v, name, phone, live)| (v, name, phone, redeemed(live)))
        .collect())
}
