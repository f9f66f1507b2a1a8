//! Vouchers: claimed from a campaign's stock, held in the worker's wallet (卡包),
//! cancelled (stock returns), redeemed at a counter. `expired` is not stored: a voucher
//! still `issued` past its deadline reads as expired everywhere (wallet, stats, counter).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::seq::SliceRandom;

use crate::db::schema::{campaign_stock_shards as shards, campaigns, vouchers};
use crate::db::{is_unique_violation, DbConnection};
use crate::domain::campaigns::Campaign;
use crate::domain::ids::{CampaignId, StationId, UserId, VoucherId};
use crate::domain::voucher_code::VoucherKeys;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = vouchers)]
pub struct Voucher {
    pub id: VoucherId,
    pub campaign_id: CampaignId,
    pub user_id: UserId,
    pub claim_no: i32,
    pub stock_shard: i32,
    pub status: String,
    pub issued_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub redeemed_at: Option<NaiveDateTime>,
    pub redeemed_station_id: Option<StationId>,
    pub redeemed_by: Option<UserId>,
    pub cancelled_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_reason: Option<String>,
}

impl Voucher {
    /// The status a person sees: `issued` past the deadline is `expired`.
    pub fn status_at(&self, now: NaiveDateTime) -> &str {
        if self.status == "issued" && now >= self.expires_at {
            "expired"
        } else {
            &self.status
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error("already claimed")]
    AlreadyClaimed(VoucherId),
    #[error("sold out")]
    SoldOut,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Takes one unit of stock and writes the voucher. Call inside a write transaction
/// after the eligibility checks; any error must roll the transaction back.
///
/// Why shards: a single stock counter row would make every concurrent claim wait for
/// the one before it to commit. Stock is spread over up to 16 rows; a claim reads which
/// still have stock (a plain read: a sold-out answer writes nothing), inserts its
/// voucher first (so the per-worker unique key rejects a second claim before any stock
/// is touched), then decrements a random non-empty shard with a conditional update that
/// cannot go below zero. The row lock is held only from that update to the commit.
pub fn claim(
    conn: &mut DbConnection,
    campaign: &Campaign,
    user: &UserId,
    claim_no: i32,
    keys: &VoucherKeys,
    now: NaiveDateTime,
) -> Result<Voucher, ClaimError> {
    let mut candidates: Vec<i32> = shards::table
        .filter(shards::campaign_id.eq(&campaign.id))
        .filter(shards::remaining.gt(0))
        .select(shards::shard)
        .load(conn)?;
    if candidates.is_empty() {
        return Err(ClaimError::SoldOut);
    }
    candidates.shuffle(&mut rand::thread_rng());
    let id = VoucherId::generate();
    let code_hash = keys.lookup_hash(&keys.code_for(&id));
    // `claim_no` is the worker's n-th voucher, never above the limit; a concurrent claim of
    // the same worker that took this number moves us to the next one while any is left.
    for claim_no in claim_no..=campaign.per_worker_limit {
        // A savepoint, so a lost race on the unique key leaves the transaction usable.
        let inserted = conn.transaction(|conn| {
            diesel::insert_into(vouchers::table)
                .values((
                    vouchers::id.eq(&id),
                    vouchers::campaign_id.eq(&campaign.id),
                    vouchers::user_id.eq(user),
                    vouchers::claim_no.eq(claim_no),
                    vouchers::code_hash.eq(&code_hash),
                    vouchers::stock_shard.eq(candidates[0]),
                    vouchers::status.eq("issued"),
                    vouchers::issued_at.eq(now),
                    vouchers::expires_at.eq(campaign.redeem_until),
                ))
                .execute(conn)
        });
        match inserted {
            Ok(_) => return take_stock(conn, campaign, &id, &candidates),
            Err(e) if is_unique_violation(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    let existing = vouchers::table
        .filter(vouchers::campaign_id.eq(&campaign.id))
        .filter(vouchers::user_id.eq(user))
        .order(vouchers::claim_no.desc())
        .select(vouchers::id)
        .first(conn)?;
    Err(ClaimError::AlreadyClaimed(existing))
}

/// Decrements a non-empty shard for the voucher just written.
fn take_stock(
    conn: &mut DbConnection,
    campaign: &Campaign,
    id: &VoucherId,
    candidates: &[i32],
) -> Result<Voucher, ClaimError> {
    for shard in candidates {
        let taken = diesel::update(
            shards::table
                .find((&campaign.id, shard))
                .filter(shards::remaining.gt(0)),
        )
        .set(shards::remaining.eq(shards::remaining - 1))
        .execute(conn)?;
        if taken == 1 {
            if *shard != candidates[0] {
                diesel::update(vouchers::table.find(id))
                    .set(vouchers::stock_shard.eq(shard))
                    .execute(conn)?;
            }
            return Ok(find(conn, id)?.ok_or(diesel::result::Error::NotFound)?);
        }
    }
    Err(ClaimError::SoldOut)
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

pub fn wallet(
    conn: &mut DbConnection,
    user: &UserId,
    before: Option<&VoucherId>,
    limit: i64,
) -> QueryResult<Vec<WalletEntry>> {
    let mut query = vouchers::table
        .inner_join(campaigns::table)
        .filter(vouchers::user_id.eq(user))
        .select((Voucher::as_select(), campaigns::title, campaigns::item_name))
        .order(vouchers::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(vouchers::id.lt(before));
    }
    query.load(conn)
}

/// One voucher of the owner; another worker's is `None`, exactly like a missing one.
pub fn owned(conn: &mut DbConnection, user: &UserId, id: &VoucherId) -> QueryResult<Option<WalletEntry>> {
    vouchers::table
        .inner_join(campaigns::table)
        .filter(vouchers::id.eq(id))
        .filter(vouchers::user_id.eq(user))
        .select((Voucher::as_select(), campaigns::title, campaigns::item_name))
        .first(conn)
        .optional()
}

#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error("no such voucher")]
    NotFound,
    #[error("voucher not active")]
    NotActive,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// `issued` → `cancelled` by its owner, and the unit goes back to the shard it came
/// from, in one transaction. Only an unexpired, unredeemed voucher can be given back.
pub fn cancel(
    conn: &mut DbConnection,
    user: &UserId,
    id: &VoucherId,
    now: NaiveDateTime,
) -> Result<(), CancelError> {
    let voucher = find(conn, id)?
        .filter(|v| &v.user_id == user)
        .ok_or(CancelError::NotFound)?;
    let changed = diesel::update(
        vouchers::table
            .find(id)
            .filter(vouchers::status.eq("issued"))
            .filter(vouchers::expires_at.gt(now)),
    )
    .set((vouchers::status.eq("cancelled"), vouchers::cancelled_at.eq(now)))
    .execute(conn)?;
    if changed != 1 {
        return Err(CancelError::NotActive);
    }
    diesel::update(shards::table.find((&voucher.campaign_id, voucher.stock_shard)))
        .set(shards::remaining.eq(shards::remaining + 1))
        .execute(conn)?;
    Ok(())
}

pub fn find_by_code_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<Voucher>> {
    vouchers::table
        .filter(vouchers::code_hash.eq(hash))
        .select(Voucher::as_select())
        .first(conn)
        .optional()
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
    let changed = diesel::update(
        vouchers::table
            .find(&voucher.id)
            .filter(vouchers::status.eq("issued")),
    )
    .set((
        vouchers::status.eq("revoked"),
        vouchers::revoked_at.eq(now),
        vouchers::revoked_by.eq(by),
        vouchers::revoked_reason.eq(reason),
    ))
    .execute(conn)?;
    if changed == 1 {
        diesel::update(shards::table.find((&voucher.campaign_id, voucher.stock_shard)))
            .set(shards::remaining.eq(shards::remaining + 1))
            .execute(conn)?;
    }
    Ok(changed == 1)
}
