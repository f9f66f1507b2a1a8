//! The counter's 核销: redeem a code exactly once (looking one up is in `lookups`; the
//! admin's side, reversal and revocation, in `voucher_admin`).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use super::changes;
use crate::auth::scope::ScopeError;
use crate::db::schema::stations;
use crate::db::DbConnection;
use crate::domain::campaign_modes::HandOver;
use crate::domain::campaigns as campaign_queries;
use crate::domain::ids::{StationId, UnionId, UserId};
use crate::domain::org;
use crate::domain::redemptions::{self, Redeem, RedeemError, Redemption};
use crate::domain::voucher_code::VoucherCode;
use crate::domain::voucher_reads;
use crate::domain::vouchers::{Voucher, VoucherState};

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
