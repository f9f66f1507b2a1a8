//! Vouchers: claimed from a campaign's stock, held in the worker's wallet (卡包),
//! cancelled (stock returns), redeemed at a counter. `expired` is not stored: a voucher
//! still `issued` past its deadline reads as expired everywhere (wallet, stats, counter).
//! When and where a voucher was redeemed is recorded once, in `redemptions`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{campaign_stock_shards as shards, vouchers};
use crate::db::DbConnection;
use crate::domain::campaigns::Campaign;
use crate::domain::ids::{CampaignId, UserId, VoucherId};

crate::text_enum!(
    /// The stored lifecycle of a voucher (`vouchers.status`). `issued → redeemed` is the
    /// redemption fence; `issued → cancelled` (by its owner) and `issued → revoked` (by
    /// an admin) return its unit to stock; a reversal (冲正) moves `redeemed → issued`.
    pub enum VoucherStatus {
        Issued => "issued",
        Redeemed => "redeemed",
        Cancelled => "cancelled",
        Revoked => "revoked",
    }
);

crate::text_enum!(
    /// A voucher's status as people see it at an instant: the stored status, with an
    /// `issued` voucher past `expires_at` read as `expired` (API field `status`).
    pub enum VoucherState {
        Issued => "issued",
        Redeemed => "redeemed",
        Expired => "expired",
        Cancelled => "cancelled",
        Revoked => "revoked",
    }
);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = vouchers)]
pub struct Voucher {
    pub id: VoucherId,
    pub campaign_id: CampaignId,
    pub user_id: UserId,
    pub claim_no: i32,
    pub stock_shard: i32,
    pub status: VoucherStatus,
    pub issued_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub cancelled_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_reason: Option<String>,
}

impl VoucherStatus {
    /// The status a person sees at `now` of a voucher stored with this status and
    /// `expires_at`: `issued` past the deadline is `expired`.
    pub fn seen_at(self, expires_at: NaiveDateTime, now: NaiveDateTime) -> VoucherState {
        match self {
            Self::Issued if now >= expires_at => VoucherState::Expired,
            Self::Issued => VoucherState::Issued,
            Self::Redeemed => VoucherState::Redeemed,
            Self::Cancelled => VoucherState::Cancelled,
            Self::Revoked => VoucherState::Revoked,
        }
    }
}

impl Voucher {
    /// Voucher `id` as a claim writes it: `user`'s `claim_no`-th of `campaign`, from
    /// `shard`, issued at `now` and expiring by the campaign's rule.
    pub fn claimed(
        id: VoucherId,
        campaign: &Campaign,
        user: &UserId,
        claim_no: i32,
        shard: i32,
        now: NaiveDateTime,
    ) -> Self {
        Self {
            id,
            campaign_id: campaign.id.clone(),
            user_id: user.clone(),
            claim_no,
            stock_shard: shard,
            status: VoucherStatus::Issued,
            issued_at: now,
            expires_at: campaign.expiry_for(now),
            cancelled_at: None,
            revoked_at: None,
            revoked_reason: None,
        }
    }

    /// The status a person sees at `now` (`VoucherStatus::seen_at`).
    pub fn state_at(&self, now: NaiveDateTime) -> VoucherState {
        self.status.seen_at(self.expires_at, now)
    }
}

pub fn find(conn: &mut DbConnection, id: &VoucherId) -> QueryResult<Option<Voucher>> {
    vouchers::table
        .find(id)
        .select(Voucher::as_select())
        .first(conn)
        .optional()
}

/// A voucher with its campaign's title and item, as the wallet shows it.
pub type WalletEntry = (Voucher, String, String);

/// `issued` → `cancelled` by its owner, and the unit goes back to the shard it came
/// from. Only an unexpired, unredeemed voucher can be given back; false otherwise.
/// Call inside a write transaction.
pub fn cancel(conn: &mut DbConnection, voucher: &Voucher, now: NaiveDateTime) -> QueryResult<bool> {
    let id = &voucher.id;
    let changed = diesel::update(
        vouchers::table
            .find(id)
            .filter(vouchers::status.eq(VoucherStatus::Issued))
            .filter(vouchers::expires_at.gt(now))
            .filter(vouchers::stock_returned_at.is_null()),
    )
    .set((
        vouchers::status.eq(VoucherStatus::Cancelled),
        vouchers::cancelled_at.eq(now),
    ))
    .execute(conn)?;
    if changed == 1 {
        return_unit(conn, voucher)?;
    }
    Ok(changed == 1)
}

/// Gives the voucher's unit back to the shard it came from.
fn return_unit(conn: &mut DbConnection, voucher: &Voucher) -> QueryResult<()> {
    diesel::update(shards::table.find((&voucher.campaign_id, voucher.stock_shard)))
        .set(shards::remaining.eq(shards::remaining + 1))
        .execute(conn)?;
    Ok(())
}

/// An admin withdraws an unused voucher; its unit returns to stock. Call inside a write
/// transaction. False when the voucher was no longer `issued`.
pub fn revoke(
    conn: &mut DbConnection,
    voucher: &Voucher,
    by: &UserId,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    // A voucher whose unit went back to stock on expiry has nothing left to revoke.
    let changed = diesel::update(
        vouchers::table
            .find(&voucher.id)
            .filter(vouchers::status.eq(VoucherStatus::Issued))
            .filter(vouchers::stock_returned_at.is_null()),
    )
    .set((
        vouchers::status.eq(VoucherStatus::Revoked),
        vouchers::revoked_at.eq(now),
        vouchers::revoked_by.eq(by),
        vouchers::revoked_reason.eq(reason),
    ))
    .execute(conn)?;
    if changed == 1 {
        return_unit(conn, voucher)?;
    }
    Ok(changed == 1)
}

/// Units a campaign's vouchers hold at `now`: issued and unexpired, or redeemed.
pub fn held_count(conn: &mut DbConnection, campaign: &CampaignId, now: NaiveDateTime) -> QueryResult<i64> {
    vouchers::table
        .filter(vouchers::campaign_id.eq(campaign))
        .filter(
            vouchers::status.eq(VoucherStatus::Redeemed).or(vouchers::status
                .eq(VoucherStatus::Issued)
                .and(vouchers::expires_at.gt(now))),
        )
        .count()
        .get_result(conn)
}

/// Expired vouchers whose unit is not back yet, oldest first, at most `limit` (of one
/// campaign, or of all).
pub fn expired_to_return(
    conn: &mut DbConnection,
    campaign: Option<&CampaignId>,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Voucher>> {
    let mut query = vouchers::table
        .filter(vouchers::status.eq(VoucherStatus::Issued))
        .filter(vouchers::stock_returned_at.is_null())
        .filter(vouchers::expires_at.le(now))
        .order(vouchers::expires_at.asc())
        .limit(limit)
        .select(Voucher::as_select())
        .into_boxed();
    if let Some(c) = campaign {
        query = query.filter(vouchers::campaign_id.eq(c));
    }
    query.load(conn)
}

/// Puts an expired voucher's unit back into stock, once: the conditional update of
/// `stock_returned_at` is the fence (two instances, or a claim and the job, may reach for
/// the same voucher). True when this call returned it. Call inside a write transaction.
pub fn return_expired(conn: &mut DbConnection, voucher: &Voucher, now: NaiveDateTime) -> QueryResult<bool> {
    let won = diesel::update(
        vouchers::table
            .find(&voucher.id)
            .filter(vouchers::status.eq(VoucherStatus::Issued))
            .filter(vouchers::stock_returned_at.is_null())
            .filter(vouchers::expires_at.le(now)),
    )
    .set(vouchers::stock_returned_at.eq(now))
    .execute(conn)?
        == 1;
    if won {
        return_unit(conn, voucher)?;
    }
    Ok(won)
}
