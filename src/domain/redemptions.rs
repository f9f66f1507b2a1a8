//! Redemption (核销): `issued` → `redeemed` exactly once, and its reversal (冲正).
//!
//! `redemptions` is the one record of a redemption (when, where, which counter and
//! terminal, and its reversal). The voucher row keeps only its status, the fence that
//! only one transaction can move; both change together, here and nowhere else.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{redemptions, vouchers};
use crate::db::{is_unique_violation, DbConnection};
use crate::domain::campaign_modes::HandOver;
use crate::domain::ids::{CampaignId, RedemptionId, StationId, UserId, VoucherId};
use crate::domain::voucher_reads;
use crate::domain::vouchers::{Voucher, VoucherState, VoucherStatus};

/// How long after a redemption an admin may reverse it.
pub const REVERSAL_WINDOW_HOURS: i64 = 24;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = redemptions)]
pub struct Redemption {
    pub id: RedemptionId,
    pub voucher_id: VoucherId,
    pub campaign_id: CampaignId,
    pub station_id: StationId,
    pub counter_id: UserId,
    pub terminal_id: Option<String>,
    pub redeemed_at: NaiveDateTime,
    pub reversed_at: Option<NaiveDateTime>,
    pub reversed_by: Option<UserId>,
    pub reversal_reason: Option<String>,
    /// At a counter or at the door.
    pub method: HandOver,
}

/// When and where a voucher's live (unreversed) redemption happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redeemed {
    pub at: NaiveDateTime,
    pub station: StationId,
}

#[derive(Debug, thiserror::Error)]
pub enum RedeemError {
    #[error("already redeemed")]
    AlreadyRedeemed(Option<Redeemed>),
    #[error("expired")]
    Expired,
    #[error("cancelled")]
    Cancelled,
    #[error("revoked")]
    Revoked,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Why a voucher in this state cannot be redeemed, if it cannot; `live` is its live
/// redemption (see `live_of`).
pub fn refusal(v: &Voucher, live: Option<Redeemed>, now: NaiveDateTime) -> Option<RedeemError> {
    match v.state_at(now) {
        VoucherState::Issued => None,
        VoucherState::Redeemed => Some(RedeemError::AlreadyRedeemed(live)),
        VoucherState::Expired => Some(RedeemError::Expired),
        VoucherState::Cancelled => Some(RedeemError::Cancelled),
        VoucherState::Revoked => Some(RedeemError::Revoked),
    }
}

pub struct Redeem<'a> {
    pub voucher: &'a Voucher,
    pub station: &'a StationId,
    pub counter: &'a UserId,
    pub terminal: Option<&'a str>,
    pub method: HandOver,
}

/// The fence: a conditional update that only one transaction can win, whatever the
/// locks did, then the record (a partial unique index allows one live redemption per
/// voucher: a second fence). Call inside a write transaction.
pub fn redeem(conn: &mut DbConnection, r: Redeem<'_>, now: NaiveDateTime) -> Result<Redemption, RedeemError> {
    let won = diesel::update(
        vouchers::table
            .find(&r.voucher.id)
            .filter(vouchers::status.eq(VoucherStatus::Issued))
            .filter(vouchers::expires_at.gt(now)),
    )
    .set(vouchers::status.eq(VoucherStatus::Redeemed))
    .execute(conn)?;
    if won != 1 {
        let (current, live) =
            voucher_reads::by_id(conn, &r.voucher.id)?.ok_or(diesel::result::Error::NotFound)?;
        return Err(refusal(&current, live, now).unwrap_or(RedeemError::Expired));
    }
    let id = RedemptionId::generate();
    let inserted = diesel::insert_into(redemptions::table)
        .values((
            redemptions::id.eq(&id),
            redemptions::voucher_id.eq(&r.voucher.id),
            redemptions::campaign_id.eq(&r.voucher.campaign_id),
            redemptions::station_id.eq(r.station),
            redemptions::counter_id.eq(r.counter),
            redemptions::terminal_id.eq(r.terminal),
            redemptions::redeemed_at.eq(now),
            redemptions::method.eq(r.method),
        ))
        .execute(conn);
    match inserted {
        Err(e) if is_unique_violation(&e) => {
            return Err(RedeemError::AlreadyRedeemed(Some(Redeemed {
                at: now,
                station: r.station.clone(),
            })))
        }
        other => other?,
    };
    Ok(Redemption::written(id, &r, now))
}

impl Redemption {
    /// The live redemption `id` of `r` at `now`, as it was just written: built rather
    /// than read back (one round trip less).
    pub fn written(id: RedemptionId, r: &Redeem<'_>, now: NaiveDateTime) -> Self {
        Self {
            id,
            voucher_id: r.voucher.id.clone(),
            campaign_id: r.voucher.campaign_id.clone(),
            station_id: r.station.clone(),
            counter_id: r.counter.clone(),
            terminal_id: r.terminal.map(str::to_owned),
            redeemed_at: now,
            reversed_at: None,
            reversed_by: None,
            reversal_reason: None,
            method: r.method,
        }
    }
}

pub fn find(conn: &mut DbConnection, id: &RedemptionId) -> QueryResult<Option<Redemption>> {
    redemptions::table
        .find(id)
        .select(Redemption::as_select())
        .first(conn)
        .optional()
}

#[derive(Debug, thiserror::Error)]
pub enum ReverseError {
    #[error("window passed")]
    WindowPassed,
    #[error("already reversed")]
    AlreadyReversed,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// 冲正: within 24 hours, the redemption is marked reversed and the voucher is
/// `issued` again, both fenced by their current state. Call inside a write transaction.
pub fn reverse(
    conn: &mut DbConnection,
    r: &Redemption,
    by: &UserId,
    reason: &str,
    now: NaiveDateTime,
) -> Result<(), ReverseError> {
    if r.reversed_at.is_some() {
        return Err(ReverseError::AlreadyReversed);
    }
    if now - r.redeemed_at > Duration::hours(REVERSAL_WINDOW_HOURS) {
        return Err(ReverseError::WindowPassed);
    }
    let marked = diesel::update(
        redemptions::table
            .find(&r.id)
            .filter(redemptions::reversed_at.is_null()),
    )
    .set((
        redemptions::reversed_at.eq(now),
        redemptions::reversed_by.eq(by),
        redemptions::reversal_reason.eq(reason),
    ))
    .execute(conn)?;
    if marked != 1 {
        return Err(ReverseError::AlreadyReversed);
    }
    diesel::update(
        vouchers::table
            .find(&r.voucher_id)
            .filter(vouchers::status.eq(VoucherStatus::Redeemed)),
    )
    .set(vouchers::status.eq(VoucherStatus::Issued))
    .execute(conn)?;
    Ok(())
}

/// Redemptions of a campaign, newest first.
pub fn of_campaign(
    conn: &mut DbConnection,
    campaign: &CampaignId,
    before: Option<&RedemptionId>,
    limit: i64,
) -> QueryResult<Vec<Redemption>> {
    let mut query = redemptions::table
        .filter(redemptions::campaign_id.eq(campaign))
        .select(Redemption::as_select())
        .order(redemptions::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(redemptions::id.lt(before));
    }
    query.load(conn)
}

/// Live redemptions per station, for the stats view.
pub fn live_by_station(conn: &mut DbConnection, campaign: &CampaignId) -> QueryResult<Vec<(StationId, i64)>> {
    redemptions::table
        .filter(redemptions::campaign_id.eq(campaign))
        .filter(redemptions::reversed_at.is_null())
        .group_by(redemptions::station_id)
        .select((redemptions::station_id, diesel::dsl::count_star()))
        .order(redemptions::station_id.asc())
        .load(conn)
}
