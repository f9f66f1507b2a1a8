//! A worker's standing in one campaign, read in one statement with the campaign itself:
//! what the rules see of the worker, the vouchers held of it, and whether anything is left
//! to claim.
//!
//! Why one statement: an eligibility check runs on every page view and inside every claim.
//! It used to be eight reads (profile, membership, pending application, wishes, held
//! vouchers, the shards twice, expired vouchers); each is a parse, a plan and a wake-up on
//! both sides, and on launch morning PostgreSQL's CPU is the limit (README, "Performance").

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, exists, sql};
use diesel::prelude::*;
use diesel::sql_types::Bool;

use crate::auth::sessions::SessionSeen;
use crate::db::literal::{Constant, Literal};
use crate::db::schema::{
    campaign_stock_shards as shards, campaigns, membership_applications, memberships, sessions, unions,
    users, vouchers,
};
use crate::db::DbConnection;
use crate::domain::campaigns::Campaign;
use crate::domain::eligibility::{facts, ProfileRow, PROFILE};
use crate::domain::ids::{CampaignId, SessionId, UserId, VoucherId};
use crate::domain::profile::Role;
use crate::domain::rules::{MemberFacts, WorkerFacts};
use crate::domain::vouchers::VoucherStatus;

/// The worker's vouchers of the campaign, in any status (a cancelled one still counts
/// against the per-worker limit).
#[derive(Debug, Clone, Default)]
pub struct Held {
    /// How many, in any status.
    pub count: i64,
    /// The newest (highest claim number), if any.
    pub newest: Option<VoucherId>,
    /// Every one held was given back (cancelled): `ALREADY_CLAIMED` is worded for that.
    pub all_given_back: bool,
}

/// What one read tells about a worker and a campaign.
#[derive(Debug, Clone)]
pub struct Standing {
    /// Open wishes are not read here (see `read`); the caller adds them when a rule needs them.
    pub facts: WorkerFacts,
    /// The worker's vouchers of the campaign.
    pub held: Held,
    /// A shard has a unit left.
    pub stock_left: bool,
}

/// `'pending'`: an application's status, as the partial index
/// `membership_applications_one_pending` states it.
struct Pending;

impl Constant for Pending {
    const TEXT: &'static str = "pending";
}

/// `'cancelled'`: a voucher given back (`VoucherStatus::Cancelled`).
struct Cancelled;

impl Constant for Cancelled {
    const TEXT: &'static str = VoucherStatus::Cancelled.as_str();
}

type Row = (
    Campaign,
    ProfileRow,
    Option<String>,
    Option<NaiveDateTime>,
    bool,
    Option<i64>,
    Option<VoucherId>,
    bool,
    bool,
    // The account and the session, for `SessionSeen`.
    Role,
    bool,
    bool,
    Option<bool>,
);

/// Reads the campaign and the worker's standing in it in one statement: the profile, the
/// current membership (union path and since), a pending join application, the vouchers
/// held of the campaign and whether a shard has stock; and what the statement saw of the
/// account and of `session` (`SessionSeen`: with `None`, an absent session), so that a
/// request's first session check needs no statement of its own. `None` when the campaign
/// or the user does not exist.
///
/// A prepared statement, so PostgreSQL settles on a generic plan after a few calls. On a
/// brand-new database that plan is made while `vouchers` is nearly empty and scans it,
/// until autovacuum's first ANALYZE of the table replaces it (about a minute); a database
/// with any history gets the index plan (README, "Performance").
pub fn read(
    conn: &mut DbConnection,
    campaign: &CampaignId,
    user: &UserId,
    session: Option<&SessionId>,
) -> QueryResult<Option<(Campaign, Standing, SessionSeen)>> {
    let current = memberships::table
        .inner_join(unions::table)
        .filter(memberships::user_id.eq(user))
        .filter(memberships::ended_at.is_null());
    let pending = membership_applications::table
        .filter(membership_applications::user_id.eq(user))
        // A literal, not a parameter: the generic plan then uses the partial index
        // `membership_applications_one_pending`.
        .filter(membership_applications::status.eq(Literal::<Pending>::new()));
    let mine = vouchers::table
        .filter(vouchers::campaign_id.eq(campaign))
        .filter(vouchers::user_id.eq(user));
    let stock = shards::table
        .filter(shards::campaign_id.eq(campaign))
        .filter(shards::remaining.gt(0));
    let revoked = sessions::table
        .filter(sessions::id.nullable().eq(session))
        .filter(sessions::user_id.eq(user))
        .select(sessions::revoked_at.is_not_null());
    // One row: the campaign beside the user (a join on their two keys, not a relation).
    let query = campaigns::table
        .inner_join(users::table.on(users::id.eq(user)))
        .filter(campaigns::id.eq(campaign))
        .select((
            crate::db::direct::columns::<Campaign>(),
            PROFILE,
            current.select(unions::path).single_value(),
            current.select(memberships::since).single_value(),
            exists(pending),
            mine.select(count_star()).single_value(),
            mine.order(vouchers::claim_no.desc())
                .select(vouchers::id)
                .single_value(),
            // A literal too: SQLite compares a bound status with the partial index
            // `vouchers_unreturned_idx`'s `status = 'issued'`, and then compiles the whole
            // statement again on every call (a third of a claim's time there).
            exists(mine.filter(vouchers::status.ne(Literal::<Cancelled>::new()))),
            exists(stock),
            users::role,
            users::disabled_at.is_not_null(),
            users::password_change_required,
            revoked.single_value(),
        ));
    // Found in diesel's statement cache by its type, without writing the SQL out per call.
    debug_assert!(crate::db::cached_by_type(&query));
    // At most one row (two primary keys), so no `LIMIT`: SQLite 3.53 reads a bound `LIMIT ?`
    // while planning and compiles the statement again whenever it is bound (every call).
    let row: Option<Row> = crate::db::direct::get_result(conn, query).optional()?;
    let Some((
        campaign,
        profile,
        path,
        since,
        pending,
        count,
        newest,
        kept_one,
        stock_left,
        role,
        disabled,
        change,
        revoked,
    )) = row
    else {
        return Ok(None);
    };
    let seen = SessionSeen {
        revoked,
        role,
        disabled,
        password_change_required: change,
    };
    let membership = path
        .zip(since)
        .map(|(union_path, since)| MemberFacts { union_path, since });
    let standing = Standing {
        facts: WorkerFacts {
            // Only the not-yet-members are told their application is pending.
            application_pending: membership.is_none() && pending,
            ..facts(profile, membership)
        },
        held: Held {
            count: count.unwrap_or(0),
            newest,
            all_given_back: !kept_one,
        },
        stock_left,
    };
    Ok(Some((campaign, standing, seen)))
}

/// Whether an expired voucher of `campaign` has not given its unit back yet at `now` (a
/// claim returns it and takes it): asked only when the shards are empty. Planned for its
/// values on every call (diesel's `sql` literal is never cached): a cached generic plan of
/// `EXISTS (… expires_at <= $now)` expected a match early and scanned every voucher of the
/// campaign, while this plan uses the partial index `vouchers_unreturned_idx`.
pub fn unreturned(conn: &mut DbConnection, campaign: &CampaignId, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::select(exists(
        vouchers::table
            .filter(vouchers::campaign_id.eq(campaign))
            .filter(sql::<Bool>(
                "vouchers.status = 'issued' AND vouchers.stock_returned_at IS NULL",
            ))
            .filter(vouchers::expires_at.le(now)),
    ))
    .get_result(conn)
}
