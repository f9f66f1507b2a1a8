//! The counter's 核销: look a code up, redeem it exactly once (the admin's side, reversal
//! and revocation, is in `voucher_admin`).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use super::changes;
use crate::auth::scope::ScopeError;
use crate::db::schema::{campaigns, memberships, stations, users};
use crate::db::DbConnection;
use crate::domain::campaign_modes::HandOver;
use crate::domain::campaigns as campaign_queries;
use crate::domain::ids::{StationId, UnionId, UserId};
use crate::domain::org;
use crate::domain::phone::Phone;
use crate::domain::redemptions::{self, Redeem, RedeemError, Redeemed, Redemption};
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

/// A counter redeems a code at one of its stations.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeemCommand {
    pub code: VoucherCode,
    pub station_id: StationId,
}

/// Why a redemption is refused. Nothing is written for any of them.
#[derive(Debug, thiserror::Error)]
pub enum RedeemRefusal {
    /// No voucher has this code (the handler counts it against guessing).
    #[error("unknown code")]
    UnknownCode,
    /// A hand-over at the door of a voucher whose campaign is collected at a counter.
    #[error("campaign not delivered")]
    DeliveryNotOffered,
    /// The counter account is not bound to the station it named.
    #[error("counter not bound to the station")]
    StationNotBound,
    /// The voucher's campaign is not redeemable at that station; where it is.
    #[error("campaign not redeemable at the station")]
    NotRedeemableHere { campaign_stations: Vec<String> },
    /// Redeemed already: when, where, and the station's name for the person at the counter.
    #[error("already redeemed")]
    AlreadyRedeemed {
        at: NaiveDateTime,
        station: StationId,
        station_name: String,
    },
    /// Expired, cancelled or revoked: the fence's answer.
    #[error(transparent)]
    Fence(RedeemError),
    #[error(transparent)]
    Scope(#[from] ScopeError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// A voucher that passed `precheck`, with what the one-statement redemption needs.
#[derive(Debug)]
pub struct ToRedeem {
    /// The voucher, `issued` and unexpired when read.
    pub voucher: Voucher,
    /// The campaign's union (the audit entry's).
    pub union: UnionId,
    /// The campaign's rules name no micro-wish, so the hand-over fulfils none.
    pub plain: bool,
}

/// Everything decided before the fence: `station` is `counter`'s and the campaign's, the
/// code (by its keyed hash, `VoucherKeys::lookup_hash`) names a voucher, and that voucher
/// is redeemable now. The common case is one statement (`voucher_reads::to_redeem_at`); a
/// refusal may read more. Reads only; the caller has checked the role.
pub fn precheck(
    conn: &mut DbConnection,
    counter: &UserId,
    hash: &str,
    station: &StationId,
    now: NaiveDateTime,
) -> Result<ToRedeem, RedeemRefusal> {
    let found = voucher_reads::to_redeem_at(conn, hash, station, counter)?;
    // A station not the counter's is the first refusal, known code or not, and both cases
    // read the counter's stations: the time taken must not tell whether a code exists.
    let bound = match &found {
        Some((_, true, ..)) => true,
        _ => org::stations_of_staff(conn, counter)?
            .iter()
            .any(|(s, _, _)| s == station),
    };
    if !bound {
        return Err(RedeemRefusal::StationNotBound);
    }
    let Some((voucher, _, here, union, rules)) = found else {
        return Err(RedeemRefusal::UnknownCode);
    };
    if !here {
        let ids = campaign_queries::station_ids(conn, &voucher.campaign_id)?;
        let campaign_stations = stations::table
            .filter(stations::id.eq_any(&ids))
            .order(stations::name.asc())
            .select(stations::name)
            .load(conn)?;
        return Err(RedeemRefusal::NotRedeemableHere { campaign_stations });
    }
    if voucher.state_at(now) != VoucherState::Issued {
        // Refused: read it again with its live redemption, for when and where.
        let (again, redeemed) = voucher_reads::by_id(conn, &voucher.id)?.ok_or(RedeemRefusal::UnknownCode)?;
        if let Some(e) = redemptions::refusal(&again, redeemed, now) {
            return Err(fence_refusal(conn, e)?);
        }
    }
    Ok(ToRedeem {
        voucher,
        union,
        plain: !super::wishes::names_wishes(&rules),
    })
}

/// The fence's refusal as the counter reads it: `ALREADY_REDEEMED` with the station's name.
pub(super) fn fence_refusal(conn: &mut DbConnection, e: RedeemError) -> QueryResult<RedeemRefusal> {
    Ok(match e {
        RedeemError::AlreadyRedeemed(Some(r)) => {
            let station_name: String = stations::table
                .find(&r.station)
                .select(stations::name)
                .first(conn)?;
            RedeemRefusal::AlreadyRedeemed {
                at: r.at,
                station: r.station,
                station_name,
            }
        }
        RedeemError::Database(e) => RedeemRefusal::Database(e),
        other => RedeemRefusal::Fence(other),
    })
}

/// The redemption itself, behind the database fence (see `redemptions::redeem`).
/// `voucher` comes from `precheck`. Call inside a write transaction.
pub fn redeem(
    conn: &mut DbConnection,
    voucher: &Voucher,
    cmd: &RedeemCommand,
    counter: &UserId,
    terminal: Option<&str>,
    now: NaiveDateTime,
) -> Result<Redemption, RedeemRefusal> {
    let r = Redeem {
        voucher,
        station: &cmd.station_id,
        counter,
        terminal,
        method: HandOver::Counter,
    };
    hand_over(conn, r, now)
}

/// Whether `redeem_at_once` can be tried: on PostgreSQL, for a campaign whose rules name
/// no micro-wish. Ask before opening a transaction for it.
pub fn at_once_applies(conn: &DbConnection, to: &ToRedeem) -> bool {
    matches!(conn, DbConnection::Postgres(_)) && to.plain
}

/// The redemption in one statement (`redeem_statement`), where `at_once_applies`.
/// `Ok(None)`: declined, nothing written; the caller runs `redeem` in a write transaction,
/// which decides every case the statement leaves out. Inside a transaction, a decline
/// after a unique violation leaves it aborted: roll it back.
pub fn redeem_at_once(
    conn: &mut DbConnection,
    to: &ToRedeem,
    cmd: &RedeemCommand,
    counter: &UserId,
    terminal: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<Option<Redemption>> {
    if !at_once_applies(conn, to) {
        return Ok(None);
    }
    let DbConnection::Postgres(pg) = conn else {
        return Ok(None);
    };
    let r = Redeem {
        voucher: &to.voucher,
        station: &cmd.station_id,
        counter,
        terminal,
        method: HandOver::Counter,
    };
    crate::domain::redeem_statement::redeem(pg, r, &to.union, now)
}

/// A hand-over at a counter or at the door: the fence, then its webhook event and audit
/// entry, and the micro-wishes it fulfils, all in the caller's write transaction.
pub(super) fn hand_over(
    conn: &mut DbConnection,
    r: Redeem<'_>,
    now: NaiveDateTime,
) -> Result<Redemption, RedeemRefusal> {
    let (voucher, counter) = (r.voucher, r.counter);
    match redemptions::redeem(conn, r, now) {
        Ok(redemption) => {
            let data = json!({"redemption_id": redemption.id, "station_id": redemption.station_id, "method": redemption.method});
            changes::voucher_changed(
                conn,
                Some(counter.as_str()),
                "voucher.redeemed",
                &voucher.id,
                data,
                now,
            )?;
            super::wishes::fulfil_by(conn, voucher, now)?;
            Ok(redemption)
        }
        Err(e) => Err(fence_refusal(conn, e)?),
    }
}
