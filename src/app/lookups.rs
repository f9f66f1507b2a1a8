//! A counter looks a code up (`POST /counter/lookups`): whose voucher it is, masked, and
//! whether it can be redeemed here. Reads only.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{campaigns, memberships, stations, users};
use crate::db::DbConnection;
use crate::domain::campaigns as campaign_queries;
use crate::domain::ids::StationId;
use crate::domain::phone::Phone;
use crate::domain::redemptions::Redeemed;
use crate::domain::voucher_code::{VoucherCode, VoucherKeys};
use crate::domain::voucher_reads;
use crate::domain::vouchers::{Voucher, VoucherState};

/// A voucher found by its code, with what a counter may learn of it.
#[derive(Debug)]
pub struct Found {
    pub voucher: Voucher,
    pub campaign_title: String,
    pub item_name: String,
    pub holder_name: String,
    pub holder_phone: Phone,
    /// The holder's current member number, for the counter to compare with a card.
    pub holder_member_no: Option<String>,
    /// Where the campaign is redeemable, with the stations' names.
    pub campaign_stations: Vec<(StationId, String)>,
    /// Its live redemption, from `redemptions`.
    pub redeemed: Option<Redeemed>,
}

/// Finds a voucher by its code (only a keyed hash is stored). Reads only.
pub fn find_by_code(
    conn: &mut DbConnection,
    keys: &VoucherKeys,
    code: &VoucherCode,
) -> QueryResult<Option<Found>> {
    let Some((voucher, redeemed)) = voucher_reads::by_code_hash(conn, &keys.lookup_hash(code))? else {
        return Ok(None);
    };
    let (campaign_title, item_name): (String, String) = campaigns::table
        .find(&voucher.campaign_id)
        .select((campaigns::title, campaigns::item_name))
        .first(conn)?;
    let (holder_name, holder_phone): (String, Phone) = users::table
        .find(&voucher.user_id)
        .select((users::name, users::phone))
        .first(conn)?;
    let holder_member_no: Option<String> = memberships::table
        .filter(memberships::user_id.eq(&voucher.user_id))
        .filter(memberships::ended_at.is_null())
        .select(memberships::member_no)
        .first(conn)
        .optional()?;
    let ids = campaign_queries::station_ids(conn, &voucher.campaign_id)?;
    let campaign_stations = stations::table
        .filter(stations::id.eq_any(&ids))
        .order(stations::name.asc())
        .select((stations::id, stations::name))
        .load(conn)?;
    Ok(Some(Found {
        voucher,
        campaign_title,
        item_name,
        holder_name,
        holder_phone,
        holder_member_no,
        campaign_stations,
        redeemed,
    }))
}

/// What a counter's lookup answers: the voucher, its state now, and whether it can be
/// redeemed at one of `here`.
#[derive(Debug)]
pub struct Lookup {
    pub found: Found,
    pub state: VoucherState,
    pub redeemable_here: bool,
}

/// A counter looks a code up at `here` (its stations, or the one it names). Reads only;
/// `None` for an unknown code (the handler counts it against guessing).
pub fn look_up(
    conn: &mut DbConnection,
    keys: &VoucherKeys,
    code: &VoucherCode,
    here: &[StationId],
    now: NaiveDateTime,
) -> QueryResult<Option<Lookup>> {
    Ok(find_by_code(conn, keys, code)?.map(|found| {
        let state = found.voucher.state_at(now);
        let redeemable_here =
            state == VoucherState::Issued && found.campaign_stations.iter().any(|(s, _)| here.contains(s));
        Lookup {
            found,
            state,
            redeemable_here,
        }
    }))
}
