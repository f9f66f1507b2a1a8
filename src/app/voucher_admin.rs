//! The admin's side of redeemed and unused vouchers: reversal (冲正) of a redemption and
//! revoking an unused voucher.

use chrono::NaiveDateTime;
use serde_json::json;

use super::{changes, notices};
use crate::auth::scope::{AdminScope, ScopeError};
use crate::db::DbConnection;
use crate::domain::ids::{RedemptionId, VoucherId};
use crate::domain::redemptions::{self, Redemption, ReverseError};
use crate::domain::utc;
use crate::domain::vouchers::{self, VoucherState};

/// Why a reversal or a revocation is refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminVoucherRefusal {
    /// Past the 24-hour window, or reversed already.
    #[error(transparent)]
    Reverse(#[from] ReverseError),
    /// Revoking a voucher that is not `issued` (and unexpired) any more.
    #[error("voucher not active")]
    NotActive,
    #[error(transparent)]
    Scope(#[from] ScopeError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// 冲正 within 24 hours by an admin of the campaign's union: the voucher is `issued`
/// again; who, when and why are recorded, and audited. Call inside a write transaction.
pub fn reverse(
    conn: &mut DbConnection,
    scope: &AdminScope,
    id: &RedemptionId,
    reason: &str,
    now: NaiveDateTime,
) -> Result<Redemption, AdminVoucherRefusal> {
    let redemption = redemptions::find(conn, id)?.ok_or(ScopeError::NotFound)?;
    scope.campaign(conn, &redemption.campaign_id)?;
    redemptions::reverse(conn, &redemption, scope.user(), reason, now)?;
    notices::reversed(conn, &redemption.voucher_id, now)?;
    // What the hand-over brought about is undone with it.
    let reopened = crate::domain::wishes::reopen(conn, &redemption.voucher_id)?;
    let unrated = crate::domain::ratings::remove(conn, &redemption.voucher_id)?;
    let data = json!({"redemption_id": id, "reason": reason, "wishes_reopened": reopened, "rating_removed": unrated});
    let actor = Some(scope.user().as_str());
    changes::voucher_changed(conn, actor, "voucher.reversed", &redemption.voucher_id, data, now)?;
    Ok(redemptions::find(conn, id)?.ok_or(ScopeError::NotFound)?)
}

/// What a revocation answers.
#[derive(Debug, serde::Serialize)]
pub struct Revoked {
    pub voucher_id: VoucherId,
    pub status: VoucherState,
    pub revoked_at: chrono::DateTime<chrono::Utc>,
    pub reason: String,
}

/// An admin withdraws an unused voucher (say, claimed by fraud); its unit returns to
/// stock, and the act is audited. Call inside a write transaction.
pub fn revoke(
    conn: &mut DbConnection,
    scope: &AdminScope,
    id: &VoucherId,
    reason: &str,
    now: NaiveDateTime,
) -> Result<Revoked, AdminVoucherRefusal> {
    let voucher = vouchers::find(conn, id)?.ok_or(ScopeError::NotFound)?;
    scope.campaign(conn, &voucher.campaign_id)?;
    if voucher.state_at(now) != VoucherState::Issued
        || !vouchers::revoke(conn, &voucher, scope.user(), reason, now)?
    {
        return Err(AdminVoucherRefusal::NotActive);
    }
    notices::revoked(conn, id, reason, now)?;
    let actor = Some(scope.user().as_str());
    changes::voucher_changed(conn, actor, "voucher.revoked", id, json!({"reason": reason}), now)?;
    Ok(Revoked {
        voucher_id: id.clone(),
        status: VoucherState::Revoked,
        revoked_at: utc(now),
        reason: reason.to_owned(),
    })
}
