//! A claim's writes in a write transaction (the path for every case the one-statement
//! claim, `claim_statement`, declines, and for SQLite): the voucher first, its stock last.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Integer;

use crate::db::fixed::{Bind, Fixed};
use crate::db::schema::{campaign_stock_shards as shards, vouchers};
use crate::db::DbConnection;
use crate::domain::campaigns::Campaign;
use crate::domain::ids::{UserId, VoucherId};
use crate::domain::voucher_code::VoucherKeys;
use crate::domain::vouchers::{Voucher, VoucherStatus};

/// Why `issue` wrote no voucher (the caller rolls back).
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// Every claim number up to the per-worker limit is taken (a concurrent claim of the
    /// same worker won); the newest voucher held.
    #[error("already claimed")]
    AlreadyClaimed(VoucherId),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Writes a worker's voucher of `campaign`, as its `claim_no`-th (or the next number free
/// up to the limit, should a concurrent claim of the same worker have taken it). No stock
/// is taken yet: call `take_stock` before the commit. Call inside a write transaction
/// after the eligibility checks; any error must roll the transaction back.
///
/// Why this order: the per-worker unique key `(campaign_id, user_id, claim_no)` rejects a
/// second claim before any stock is touched, and the shard's row lock (the one thing
/// concurrent claimants queue for) is taken last, held only from `take_stock` to the
/// commit.
pub fn issue(
    conn: &mut DbConnection,
    campaign: &Campaign,
    user: &UserId,
    claim_no: i32,
    keys: &VoucherKeys,
    now: NaiveDateTime,
) -> Result<Voucher, ClaimError> {
    let id = VoucherId::generate();
    let code_hash = keys.lookup_hash(&keys.code_for(&id));
    // A guess at the shard `take_stock` will find: where it starts looking.
    let guess = crate::domain::stock::random_shard(campaign);
    let voucher = Voucher::claimed(id, campaign, user, claim_no, guess, now);
    for claim_no in claim_no..=campaign.per_worker_limit {
        // `DO NOTHING` rather than a savepoint: a lost race on the unique key costs no
        // extra round trips and leaves the transaction usable.
        let insert = diesel::insert_into(vouchers::table)
            .values((
                vouchers::id.eq(&voucher.id),
                vouchers::campaign_id.eq(&voucher.campaign_id),
                vouchers::user_id.eq(user),
                vouchers::claim_no.eq(claim_no),
                vouchers::code_hash.eq(&code_hash),
                vouchers::stock_shard.eq(guess),
                vouchers::status.eq(VoucherStatus::Issued),
                vouchers::issued_at.eq(now),
                vouchers::expires_at.eq(voucher.expires_at),
            ))
            .on_conflict_do_nothing();
        // Diesel's multi-backend connection has no ON CONFLICT; both backends do.
        let inserted = match conn {
            DbConnection::Postgres(pg) => insert.execute(pg)?,
            DbConnection::Sqlite(lite) => insert.execute(lite)?,
        };
        if inserted == 1 {
            return Ok(Voucher { claim_no, ..voucher });
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

#[derive(QueryableByName)]
struct Taken {
    #[diesel(sql_type = Integer)]
    shard: i32,
}

/// Takes one unit for `voucher` (just written by `issue`) from a shard with stock: the
/// first non-empty one from its guessed shard on, by a conditional decrement that cannot
/// go below zero. False when every shard is empty (the caller may put an expired unit back
/// and try again, or roll back). Call inside the voucher's transaction.
///
/// A decrement can lose a race only to one that emptied the shard it aimed at, so the
/// attempts are bounded by the number of shards.
pub fn take_stock(conn: &mut DbConnection, voucher: &mut Voucher) -> QueryResult<bool> {
    let campaign = &voucher.campaign_id;
    let from = voucher.stock_shard;
    // Written out: diesel cannot express a subquery on the table being updated. A `Fixed`
    // statement stays prepared (diesel compiles `sql_query` again on every call).
    let decrement = "UPDATE campaign_stock_shards SET remaining = remaining - 1 \
         WHERE campaign_id = ? AND remaining > 0 AND shard = (\
           SELECT s.shard FROM campaign_stock_shards s WHERE s.campaign_id = ? AND s.remaining > 0 \
           ORDER BY s.shard >= ? DESC, s.shard LIMIT 1) \
         RETURNING shard";
    for _ in 0..=crate::domain::stock::MAX_SHARDS {
        let binds = vec![
            Bind::Text(campaign.as_str()),
            Bind::Text(campaign.as_str()),
            Bind::Int(from),
        ];
        let taken: Option<Taken> = Fixed::new(decrement, binds).get_result_on(conn).optional()?;
        let taken = taken.map(|t| t.shard);
        match taken {
            Some(shard) if shard == voucher.stock_shard => return Ok(true),
            Some(shard) => {
                diesel::update(vouchers::table.find(&voucher.id))
                    .set(vouchers::stock_shard.eq(shard))
                    .execute(conn)?;
                voucher.stock_shard = shard;
                return Ok(true);
            }
            None => {
                let left = diesel::select(diesel::dsl::exists(
                    shards::table
                        .filter(shards::campaign_id.eq(campaign))
                        .filter(shards::remaining.gt(0)),
                ))
                .get_result::<bool>(conn)?;
                if !left {
                    return Ok(false);
                }
            }
        }
    }
    Ok(false)
}
