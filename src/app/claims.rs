//! Claiming a voucher (领取) and giving one back.

use chrono::NaiveDateTime;

use super::changes;
use crate::db::DbConnection;
use crate::domain::campaigns::Campaign;
use crate::domain::claim_statement::{self, FirstClaim};
use crate::domain::eligibility::{self, Assessment, Closed};
use crate::domain::ids::{CampaignId, SessionId, UserId, VoucherId};
use crate::domain::releases;
use crate::domain::rules::Reason;
use crate::domain::voucher_claims::{self, ClaimError};
use crate::domain::voucher_code::VoucherKeys;
use crate::domain::voucher_reads;
use crate::domain::vouchers::{self, WalletEntry};
use diesel::QueryResult;

use super::expiry as stock_return;

/// A worker claims one voucher of a campaign.
#[derive(Debug, Clone)]
pub struct ClaimCommand {
    pub campaign: CampaignId,
    pub worker: UserId,
}

/// Why a claim is refused. Nothing is written for any of them.
#[derive(Debug, thiserror::Error)]
pub enum ClaimRefusal {
    /// No such campaign, or a draft (drafts are invisible to workers).
    #[error("no such campaign")]
    NotFound,
    #[error("claims are not open")]
    NotOpen(Reason),
    #[error("claims have ended")]
    Ended(Reason),
    /// The per-worker limit is reached; the newest voucher held, if any, and why in words.
    #[error("already claimed")]
    AlreadyClaimed(Option<VoucherId>, Reason),
    /// Every rule the worker does not meet.
    #[error("not eligible")]
    NotEligible(Vec<Reason>),
    /// Nothing to claim now; when the next batch comes, if one is scheduled.
    #[error("sold out")]
    SoldOut(Option<NaiveDateTime>),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl From<ClaimError> for ClaimRefusal {
    fn from(e: ClaimError) -> Self {
        match e {
            ClaimError::AlreadyClaimed(v) => Self::AlreadyClaimed(
                Some(v),
                Reason::new("ALREADY_CLAIMED", "您已领取过本活动的礼包，请在“卡包”中查看"),
            ),
            ClaimError::Database(e) => Self::Database(e),
        }
    }
}

/// Everything that decides a claim except taking stock. Returns the campaign and the
/// claim number the new voucher would take. Reads only: on SQLite the handler runs it
/// once before taking the single writer's lock, so refusals never queue for it.
pub fn precheck(
    conn: &mut DbConnection,
    cmd: &ClaimCommand,
    now: NaiveDateTime,
) -> Result<(Campaign, i32), ClaimRefusal> {
    decide(eligibility::assess(conn, &cmd.campaign, &cmd.worker, now)?)
}

/// `precheck`'s decision from an assessment already made (`eligibility::assess_as`, when
/// the route checks the session in the same statement); `None` is `NotFound`.
pub fn decide(assessed: Option<(Campaign, Assessment)>) -> Result<(Campaign, i32), ClaimRefusal> {
    let (campaign, a) = assessed.ok_or(ClaimRefusal::NotFound)?;
    match a.window {
        Some(Closed::NotOpen(reason)) => return Err(ClaimRefusal::NotOpen(reason)),
        Some(Closed::Ended(reason)) => return Err(ClaimRefusal::Ended(reason)),
        None => {}
    }
    if a.limit_reached {
        let reason = a.already_claimed();
        return Err(ClaimRefusal::AlreadyClaimed(a.held.newest.clone(), reason));
    }
    if !a.rules.is_empty() {
        return Err(ClaimRefusal::NotEligible(a.rules));
    }
    if a.sold_out {
        return Err(ClaimRefusal::SoldOut(campaign.next_release_at));
    }
    // Below the limit (at most 100), so the count fits.
    let claim_no = i32::try_from(a.held.count).map_or(i32::MAX, |n| n.saturating_add(1));
    Ok((campaign, claim_no))
}

/// The claim: every check again inside the transaction, then the voucher, its events and
/// audit entry, and one unit of stock last (see `voucher_claims::issue` for why in that order).
/// Call inside a write transaction; on a refusal the caller rolls back.
pub fn claim(
    conn: &mut DbConnection,
    cmd: &ClaimCommand,
    keys: &VoucherKeys,
    now: NaiveDateTime,
) -> Result<WalletEntry, ClaimRefusal> {
    let (campaign, claim_no) = precheck(conn, cmd, now)?;
    // A batch that is due is released here rather than waiting for the job: at 10:00 the
    // burst arrives at 10:00.
    if campaign.next_release_at.is_some_and(|t| t <= now) {
        releases::release_due(conn, &campaign.id, now)?;
    }
    let mut voucher = voucher_claims::issue(conn, &campaign, &cmd.worker, claim_no, keys, now)?;
    let data = serde_json::json!({"campaign_id": campaign.id});
    changes::voucher_changed(
        conn,
        Some(cmd.worker.as_str()),
        "voucher.claimed",
        &voucher.id,
        data,
        now,
    )?;
    // The shards are empty but an expired voucher's unit may not be back yet: put one
    // back and take it.
    let taken = voucher_claims::take_stock(conn, &mut voucher)?
        || (return_one_expired(conn, &campaign, now)? && voucher_claims::take_stock(conn, &mut voucher)?);
    if !taken {
        return Err(ClaimRefusal::SoldOut(None));
    }
    Ok((voucher, campaign.title, campaign.item_name))
}

/// Whether `claim_at_once` can be tried: on PostgreSQL, with no batch due (the
/// transactional path releases it). Ask before opening a transaction for it.
pub fn at_once_applies(conn: &DbConnection, campaign: &Campaign, now: NaiveDateTime) -> bool {
    matches!(conn, DbConnection::Postgres(_)) && campaign.next_release_at.is_none_or(|t| t > now)
}

/// The claim in one statement (`claim_statement`), after `precheck` passed outside any
/// transaction, where `at_once_applies`. `Ok(None)`: declined, nothing written; the
/// caller runs `claim` in a write transaction, which decides every case the statement
/// leaves out. Inside a transaction, a decline after a unique violation leaves it
/// aborted: roll it back.
pub fn claim_at_once(
    conn: &mut DbConnection,
    campaign: &Campaign,
    cmd: &ClaimCommand,
    claim_no: i32,
    keys: &VoucherKeys,
    now: NaiveDateTime,
) -> Result<Option<WalletEntry>, ClaimRefusal> {
    if !at_once_applies(conn, campaign, now) {
        return Ok(None);
    }
    let DbConnection::Postgres(pg) = conn else {
        return Ok(None);
    };
    let voucher = claim_statement::claim(pg, campaign, &cmd.worker, claim_no, keys, now)?;
    Ok(voucher.map(|v| (v, campaign.title.clone(), campaign.item_name.clone())))
}

/// A worker's first voucher of a campaign read lately (`app::open_campaigns`), decided and
/// written in one statement with nothing read before (`claim_statement::first`), on
/// PostgreSQL. `session`: the worker's session to check in the statement (`None`: checked
/// already). `Ok(None)`: declined, or SQLite; nothing written, and the caller decides as
/// before. Inside a transaction, a decline after a unique violation leaves it aborted.
pub fn claim_first(
    conn: &mut DbConnection,
    remembered: &FirstClaim,
    worker: &UserId,
    session: Option<&SessionId>,
    keys: &VoucherKeys,
    now: NaiveDateTime,
) -> Result<Option<WalletEntry>, ClaimRefusal> {
    let DbConnection::Postgres(pg) = conn else {
        return Ok(None);
    };
    let voucher = claim_statement::first(pg, remembered, worker, session, keys, now)?;
    let campaign = &remembered.campaign;
    Ok(voucher.map(|v| (v, campaign.title.clone(), campaign.item_name.clone())))
}

fn return_one_expired(conn: &mut DbConnection, campaign: &Campaign, now: NaiveDateTime) -> QueryResult<bool> {
    for voucher in vouchers::expired_to_return(conn, Some(&campaign.id), now, 3)? {
        if stock_return::return_voucher(conn, &voucher, now)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Why a voucher cannot be given back.
#[derive(Debug, thiserror::Error)]
pub enum CancelRefusal {
    /// No such voucher, or another worker's (the two look the same).
    #[error("no such voucher")]
    NotFound,
    /// Redeemed, expired, cancelled or revoked already.
    #[error("voucher not active")]
    NotActive,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// The owner gives an unused voucher back (`issued → cancelled`); its unit returns to
/// stock. Call inside a write transaction.
pub fn cancel(
    conn: &mut DbConnection,
    worker: &UserId,
    id: &VoucherId,
    now: NaiveDateTime,
) -> Result<WalletEntry, CancelRefusal> {
    let ((voucher, _, _), _) = voucher_reads::owned(conn, worker, id)?.ok_or(CancelRefusal::NotFound)?;
    if !vouchers::cancel(conn, &voucher, now)? {
        return Err(CancelRefusal::NotActive);
    }
    let data = serde_json::json!({"campaign_id": voucher.campaign_id});
    changes::voucher_changed(conn, Some(worker.as_str()), "voucher.cancelled", id, data, now)?;
    let (entry, _) = voucher_reads::owned(conn, worker, id)?.ok_or(CancelRefusal::NotFound)?;
    Ok(entry)
}
