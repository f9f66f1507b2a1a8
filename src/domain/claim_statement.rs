//! A claim's writes in one PostgreSQL statement: the stock decrement, the voucher and its
//! audit entry, each depending on the one before, so the statement writes all or nothing.
//!
//! Why: the claim is the launch-morning hot path and PostgreSQL's CPU is the limit there;
//! the transactional path (`voucher_claims::issue`, `changes::voucher_changed`,
//! `voucher_claims::take_stock` between `BEGIN` and `COMMIT`) costs six round trips where this
//! costs one (README, "Performance"). It covers the common case only and declines the rest,
//! which the transactional path then decides: no stock in the shards (an expired unit to
//! return, or sold out), a live webhook endpoint (events to address), a concurrent claim
//! of the same worker (the per-worker key), or the campaign closed meanwhile.
//!
//! `first` goes further for a worker's first voucher of a campaign this instance has read
//! lately (`app::open_campaigns`): the session, the worker's standing and the campaign's
//! rules (`rule_sql`) are decided in the same statement, so an eligible worker's claim is
//! one round trip with nothing read before it. Whatever it declines is read and decided
//! as before, which also finds the reasons to tell.

use std::sync::LazyLock;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Integer;
use diesel::PgConnection;

use crate::auth::sessions::SessionSeen;
use crate::db::fixed::{Bind, Fixed};
use crate::db::is_unique_violation;
use crate::domain::audit::{self, Audit};
use crate::domain::campaigns::{Campaign, CampaignMode, CampaignStatus};
use crate::domain::ids::{SessionId, UserId, VoucherId};
use crate::domain::profile::Role;
use crate::domain::rule_sql::RuleSql;
use crate::domain::stock;
use crate::domain::voucher_code::VoucherKeys;
use crate::domain::vouchers::Voucher;

/// The campaign still open: what `claim` asks after `claims::precheck` decided the rest.
const OPEN: &str = "\
WITH c AS (
  SELECT id FROM campaigns
  WHERE id = ? AND status = 'published' AND claim_starts_at <= ? AND claim_ends_at > ?
)";

/// After `c` (the campaign, when everything holds): no endpoint to tell, then a unit from
/// the first non-empty shard from a random one on (a conditional decrement), the voucher
/// with that shard, and the audit entry. The per-worker unique key fails the whole
/// statement on a race.
const WRITE: &str = "\
, quiet AS (
  SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM webhook_endpoints WHERE deleted_at IS NULL)
), taken AS (
  UPDATE campaign_stock_shards SET remaining = remaining - 1
  WHERE campaign_id = ? AND remaining > 0
    AND EXISTS (SELECT 1 FROM c) AND EXISTS (SELECT 1 FROM quiet)
    AND shard = (SELECT s.shard FROM campaign_stock_shards s
                 WHERE s.campaign_id = ? AND s.remaining > 0
                 ORDER BY s.shard >= ? DESC, s.shard LIMIT 1)
  RETURNING shard
), v AS (
  INSERT INTO vouchers (id, campaign_id, user_id, claim_no, code_hash, stock_shard, status, issued_at, expires_at)
  SELECT ?, ?, ?, ?, ?, shard, 'issued', ?, ? FROM taken
  RETURNING id, user_id, issued_at, stock_shard
), a AS (
  INSERT INTO audit_events (id, actor_id, action, subject_type, subject_id, union_id, detail, created_at, mac)
  SELECT ?, v.user_id, 'voucher.claimed', 'voucher', v.id, ?, ?, v.issued_at, ? FROM v
)
SELECT stock_shard AS shard FROM v";

static CLAIM: LazyLock<String> = LazyLock::new(|| format!("{OPEN}{WRITE}"));

/// What `first`'s statement proved of the session it was given: live, of an enabled
/// worker's account with no forced password change (`SessionState::of` reads it so).
pub const SESSION_PROVEN: SessionSeen = SessionSeen {
    revoked: Some(false),
    role: Role::Worker,
    disabled: false,
    password_change_required: false,
};

/// A campaign as read, ready for `first`: its rules as SQL and the statement built on them.
#[derive(Debug)]
pub struct FirstClaim {
    /// The campaign as it was read (its `updated_at` is the statement's guard).
    pub campaign: Campaign,
    rules: RuleSql,
    statement: String,
}

impl FirstClaim {
    /// Compiles `campaign`'s rules; `Err` when they cannot be read (never "no rules").
    pub fn new(campaign: Campaign) -> QueryResult<Self> {
        let rules = RuleSql::compile(&campaign.rules()?);
        let statement = first_statement(&rules);
        Ok(Self {
            campaign,
            rules,
            statement,
        })
    }
}

/// `first`'s statement for a campaign whose rules are `rules`: `c` holds only while the
/// campaign is as remembered (its `updated_at`, which every edit sets, and, not to rest on
/// clocks alone, what the statement and its audit entry take from memory: the union, the
/// rules and the expiry), open, with no batch due, and the worker has a live worker's
/// session (when one is given), no voucher of it yet, and meets every rule. Built once per
/// campaign version (`app::open_campaigns`); PostgreSQL keeps it prepared by its text.
fn first_statement(rules: &RuleSql) -> String {
    format!(
        "\
WITH c AS (
  SELECT id FROM campaigns
  WHERE id = ? AND updated_at = ? AND status = '{published}' AND mode = '{claim}'
    AND union_id = ? AND rules = ? AND redeem_until = ? AND COALESCE(voucher_valid_days, -1) = ?
    AND claim_starts_at <= ? AND claim_ends_at > ? AND (next_release_at IS NULL OR next_release_at > ?)
    AND EXISTS (
      SELECT 1 FROM users u
      WHERE u.id = ? AND u.role = '{worker}' AND u.disabled_at IS NULL AND NOT u.password_change_required
        AND (CAST(? AS TEXT) IS NULL OR EXISTS (
          SELECT 1 FROM sessions s WHERE s.id = ? AND s.user_id = u.id AND s.revoked_at IS NULL))
        AND NOT EXISTS (SELECT 1 FROM vouchers held WHERE held.campaign_id = campaigns.id AND held.user_id = u.id)
        AND ({rules}))
){WRITE}",
        published = CampaignStatus::Published.as_str(),
        claim = CampaignMode::Claim.as_str(),
        worker = Role::Worker.as_str(),
        rules = rules.condition(),
    )
}

#[derive(QueryableByName)]
struct Written {
    #[diesel(sql_type = Integer)]
    shard: i32,
}

/// Claims a voucher of `campaign` for `user` as their `claim_no`-th in one statement, after
/// the eligibility checks (`claims::precheck`) passed. `Ok(None)`: declined, nothing
/// written (see the module's list); the caller takes the transactional path. Run it on
/// its own (autocommit) or inside the transaction that records the idempotent answer.
pub fn claim(
    conn: &mut PgConnection,
    campaign: &Campaign,
    user: &UserId,
    claim_no: i32,
    keys: &VoucherKeys,
    now: NaiveDateTime,
) -> QueryResult<Option<Voucher>> {
    let id = campaign.id.as_str();
    let head = vec![Bind::Text(id), Bind::Time(now), Bind::Time(now)];
    write(conn, CLAIM.as_str(), head, campaign, user, claim_no, keys, now)
}

/// A worker's first voucher of `campaign` with nothing read before: the campaign as
/// remembered, the session (`None`: settled already), the rules (`rules`, compiled into
/// `statement` by `first_statement`), the window and the stock decided in the statement
/// that writes. `Ok(None)`: something did not hold, nothing written; the caller reads the
/// worker's standing and decides as before (and tells the reasons).
pub fn first(
    conn: &mut PgConnection,
    remembered: &FirstClaim,
    user: &UserId,
    session: Option<&SessionId>,
    keys: &VoucherKeys,
    now: NaiveDateTime,
) -> QueryResult<Option<Voucher>> {
    let campaign = &remembered.campaign;
    let id = campaign.id.as_str();
    let session = session.map(SessionId::as_str);
    let mut head = vec![
        Bind::Text(id),
        Bind::Time(campaign.updated_at),
        Bind::Text(campaign.union_id.as_str()),
        Bind::Text(&campaign.rules),
        Bind::Time(campaign.redeem_until),
        Bind::Int(campaign.voucher_valid_days.unwrap_or(-1)),
        Bind::Time(now),
        Bind::Time(now),
        Bind::Time(now),
        Bind::Text(user.as_str()),
        Bind::NullableText(session),
        Bind::NullableText(session),
    ];
    head.extend(remembered.rules.binds());
    write(conn, &remembered.statement, head, campaign, user, 1, keys, now)
}

/// Runs `sql`: `head` binds its campaign CTE `c`, then `WRITE`'s binds follow.
#[allow(clippy::too_many_arguments)]
fn write(
    conn: &mut PgConnection,
    sql: &str,
    head: Vec<Bind<'_>>,
    campaign: &Campaign,
    user: &UserId,
    claim_no: i32,
    keys: &VoucherKeys,
    now: NaiveDateTime,
) -> QueryResult<Option<Voucher>> {
    let id = VoucherId::generate();
    let code_hash = keys.lookup_hash(&keys.code_for(&id));
    let from = stock::random_shard(campaign);
    let data = serde_json::json!({"campaign_id": campaign.id});
    let entry = audit::sign(
        Audit::new(Some(user.as_str()), "voucher.claimed", "voucher", id.as_str())
            .union(&campaign.union_id)
            .data(data),
        now,
    );
    let expires_at = campaign.expiry_for(now);
    let campaign_id = campaign.id.as_str();
    let mut binds = head;
    binds.extend([
        Bind::Text(campaign_id),
        Bind::Text(campaign_id),
        Bind::Int(from),
        Bind::Text(id.as_str()),
        Bind::Text(campaign_id),
        Bind::Text(user.as_str()),
        Bind::Int(claim_no),
        Bind::Text(&code_hash),
        Bind::Time(now),
        Bind::Time(expires_at),
        Bind::Text(entry.id.as_str()),
        Bind::NullableText(entry.union_id.as_deref()),
        Bind::Text(&entry.detail),
        Bind::Text(&entry.mac),
    ]);
    let written: QueryResult<Option<Written>> = Fixed::new(sql, binds).get_result(conn).optional();
    let shard = match written {
        Ok(Some(w)) => w.shard,
        Ok(None) => return Ok(None),
        // A concurrent claim of the same worker took this claim number.
        Err(e) if is_unique_violation(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(Voucher::claimed(id, campaign, user, claim_no, shard, now)))
}
