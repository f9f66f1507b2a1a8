//! Campaigns: what is given, to whom (rules), how many (stock, split over shards), when,
//! and where it can be redeemed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{campaign_stations, campaign_stock_shards as shards, campaigns, unions};
use crate::db::DbConnection;
use crate::domain::ids::{CampaignId, StationId, UnionId, UserId};
use crate::domain::releases::{self, ReleaseInput};
use crate::domain::rules::Rule;

/// Stock is split over at most this many rows. Claims pick a shard at random, so N
/// concurrent claimants queue on N/16 row locks at worst instead of all on one.
pub const MAX_SHARDS: i64 = 16;

crate::text_enum!(
    /// `campaigns.status`: draft → published ⇄ paused → closed (any but closed → closed).
    pub enum CampaignStatus {
        Draft => "draft",
        Published => "published",
        Paused => "paused",
        Closed => "closed",
    }
);

impl CampaignStatus {
    /// The status as an admin reads it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "草稿状态",
            Self::Published => "已发布",
            Self::Paused => "已暂停",
            Self::Closed => "已结束",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = campaigns)]
pub struct Campaign {
    pub id: CampaignId,
    pub union_id: UnionId,
    pub title: String,
    pub item_name: String,
    pub description: Option<String>,
    pub total_stock: i64,
    pub per_worker_limit: i32,
    pub claim_starts_at: NaiveDateTime,
    pub claim_ends_at: NaiveDateTime,
    pub redeem_until: NaiveDateTime,
    pub rules: String,
    pub status: CampaignStatus,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub published_at: Option<NaiveDateTime>,
    pub voucher_valid_days: Option<i32>,
    pub next_release_at: Option<NaiveDateTime>,
}

impl Campaign {
    /// When a voucher issued at `issued_at` expires: `voucher_valid_days` later, or at
    /// `redeem_until` if that comes first (contract v1.1).
    pub fn expiry_for(&self, issued_at: NaiveDateTime) -> NaiveDateTime {
        self.voucher_valid_days
            .map(|d| issued_at + chrono::Duration::days(i64::from(d)))
            .map_or(self.redeem_until, |t| t.min(self.redeem_until))
    }

    /// The stored rules (validated when written). Unreadable rules are an error, never
    /// "no rules": a campaign must not open to everyone because its rules got corrupted.
    pub fn rules(&self) -> QueryResult<Vec<Rule>> {
        serde_json::from_str(&self.rules)
            .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
    }
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = campaigns)]
pub struct CampaignFields {
    pub title: String,
    pub item_name: String,
    pub description: Option<String>,
    pub total_stock: i64,
    pub per_worker_limit: i32,
    pub claim_starts_at: NaiveDateTime,
    pub claim_ends_at: NaiveDateTime,
    pub redeem_until: NaiveDateTime,
    pub rules: String,
    pub voucher_valid_days: Option<i32>,
}

pub fn create(
    conn: &mut DbConnection,
    union: &UnionId,
    fields: &CampaignFields,
    stations: &[StationId],
    releases: Option<&[ReleaseInput]>,
    by: &UserId,
    now: NaiveDateTime,
) -> QueryResult<Campaign> {
    let id = CampaignId::generate();
    diesel::insert_into(campaigns::table)
        .values((
            campaigns::id.eq(&id),
            campaigns::union_id.eq(union),
            fields,
            campaigns::status.eq(CampaignStatus::Draft),
            campaigns::created_by.eq(by),
            campaigns::created_at.eq(now),
            campaigns::updated_at.eq(now),
        ))
        .execute(conn)?;
    set_stations(conn, &id, stations)?;
    set_releases(conn, &id, fields, releases)?;
    find(conn, &id)?.ok_or(diesel::result::Error::NotFound)
}

/// Stock in batches; with none, one batch of everything at `claim_starts_at` (contract
/// v1.1). Shards start empty; publishing, the jobs and claims release what is due.
fn set_releases(
    conn: &mut DbConnection,
    id: &CampaignId,
    fields: &CampaignFields,
    batches: Option<&[ReleaseInput]>,
) -> QueryResult<()> {
    reset_stock(conn, id, fields.total_stock, 0)?;
    match batches {
        Some(b) => releases::replace(conn, id, b),
        None => {
            let all = ReleaseInput {
                at: crate::domain::civil::StartInput(fields.claim_starts_at),
                quantity: fields.total_stock,
            };
            releases::replace(conn, id, &[all])
        }
    }
}

/// Optimistic lock for an edit: bumps `updated_at` only if nobody changed the campaign
/// since `seen` was read. The row lock it takes also queues concurrent edits, so two
/// admins can never both rewrite stock from the same stale total.
pub fn begin_edit(conn: &mut DbConnection, seen: &Campaign, now: NaiveDateTime) -> QueryResult<bool> {
    let bumped = diesel::update(
        campaigns::table
            .find(&seen.id)
            .filter(campaigns::updated_at.eq(seen.updated_at))
            .filter(campaigns::status.eq(seen.status)),
    )
    .set(campaigns::updated_at.eq(now.max(seen.updated_at + chrono::Duration::microseconds(1))))
    .execute(conn)?;
    Ok(bumped == 1)
}

/// Rewrites a draft's fields, stations and stock.
pub fn update_draft(
    conn: &mut DbConnection,
    id: &CampaignId,
    fields: &CampaignFields,
    stations: &[StationId],
    releases: Option<&[ReleaseInput]>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(campaigns::table.find(id))
        .set((fields, campaigns::updated_at.eq(now)))
        .execute(conn)?;
    set_stations(conn, id, stations)?;
    set_releases(conn, id, fields, releases)
}

/// Applies an edit a published (or paused) campaign allows: grown stock goes to the
/// shards, the fields are rewritten, and vouchers already issued follow a later redeem
/// deadline. The caller has checked the edit (`app::campaigns::edit`).
pub fn update_published(
    conn: &mut DbConnection,
    current: &Campaign,
    fields: &CampaignFields,
    now: NaiveDateTime,
) -> QueryResult<()> {
    use crate::db::schema::vouchers;
    use crate::domain::vouchers::VoucherStatus;
    add_stock(conn, &current.id, fields.total_stock - current.total_stock)?;
    diesel::update(campaigns::table.find(&current.id))
        .set((fields, campaigns::updated_at.eq(now)))
        .execute(conn)?;
    if fields.redeem_until == current.redeem_until {
        return Ok(());
    }
    // Vouchers still holding their unit follow the later deadline (one whose unit went
    // back to stock stays expired: its unit is someone else's now).
    let open = vouchers::table
        .filter(vouchers::campaign_id.eq(&current.id))
        .filter(vouchers::status.eq(VoucherStatus::Issued))
        .filter(vouchers::stock_returned_at.is_null());
    let Some(days) = current.voucher_valid_days else {
        diesel::update(open)
            .set(vouchers::expires_at.eq(fields.redeem_until))
            .execute(conn)?;
        return Ok(());
    };
    let held: Vec<(crate::domain::ids::VoucherId, NaiveDateTime)> =
        open.select((vouchers::id, vouchers::issued_at)).load(conn)?;
    for (id, issued_at) in held {
        let expires = (issued_at + chrono::Duration::days(i64::from(days))).min(fields.redeem_until);
        diesel::update(vouchers::table.find(&id))
            .set(vouchers::expires_at.eq(expires))
            .execute(conn)?;
    }
    Ok(())
}

/// Whether any voucher was ever issued (rules freeze then).
pub fn has_vouchers(conn: &mut DbConnection, id: &CampaignId) -> QueryResult<bool> {
    use crate::db::schema::vouchers;
    diesel::select(diesel::dsl::exists(
        vouchers::table.filter(vouchers::campaign_id.eq(id)),
    ))
    .get_result(conn)
}

/// Adds stations to a published campaign (it may gain stations, never lose one).
pub fn add_stations(conn: &mut DbConnection, id: &CampaignId, stations: &[StationId]) -> QueryResult<()> {
    let current = station_ids(conn, id)?;
    for station in stations.iter().filter(|s| !current.contains(s)) {
        diesel::insert_into(campaign_stations::table)
            .values((
                campaign_stations::campaign_id.eq(id),
                campaign_stations::station_id.eq(station),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Deletes a draft and everything hanging off it; false when it is not a draft (any more).
pub fn delete_draft(conn: &mut DbConnection, id: &CampaignId) -> QueryResult<bool> {
    let draft = campaigns::table
        .find(id)
        .filter(campaigns::status.eq(CampaignStatus::Draft));
    if diesel::select(diesel::dsl::exists(draft)).get_result::<bool>(conn)? {
        diesel::delete(campaign_stations::table.filter(campaign_stations::campaign_id.eq(id)))
            .execute(conn)?;
        diesel::delete(shards::table.filter(shards::campaign_id.eq(id))).execute(conn)?;
        releases::replace(conn, id, &[])?;
    }
    Ok(diesel::delete(draft).execute(conn)? == 1)
}

fn set_stations(conn: &mut DbConnection, id: &CampaignId, stations: &[StationId]) -> QueryResult<()> {
    diesel::delete(campaign_stations::table.filter(campaign_stations::campaign_id.eq(id))).execute(conn)?;
    for station in stations {
        diesel::insert_into(campaign_stations::table)
            .values((
                campaign_stations::campaign_id.eq(id),
                campaign_stations::station_id.eq(station),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Lays out shards for `total` units and spreads `initial` of them over them (drafts only:
/// nothing is claimed yet).
fn reset_stock(conn: &mut DbConnection, id: &CampaignId, total: i64, initial: i64) -> QueryResult<()> {
    diesel::delete(shards::table.filter(shards::campaign_id.eq(id))).execute(conn)?;
    let count = total.clamp(1, MAX_SHARDS);
    for shard in 0..count {
        let share = initial / count + i64::from(shard < initial % count);
        let shard =
            i32::try_from(shard).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        diesel::insert_into(shards::table)
            .values((
                shards::campaign_id.eq(id),
                shards::shard.eq(shard),
                shards::remaining.eq(share),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Adds `delta` units to a campaign's shards: grown stock, a released batch, a returned
/// unit's campaign. The caller keeps the books in the same transaction.
pub(crate) fn add_stock(conn: &mut DbConnection, id: &CampaignId, delta: i64) -> QueryResult<()> {
    let shard_ids: Vec<i32> = shards::table
        .filter(shards::campaign_id.eq(id))
        .select(shards::shard)
        .order(shards::shard.asc())
        .load(conn)?;
    // At most MAX_SHARDS rows, so the counts fit.
    let count = i64::try_from(shard_ids.len().max(1)).unwrap_or(MAX_SHARDS);
    for (i, shard) in (0_i64..).zip(shard_ids.iter()) {
        let share = delta / count + i64::from(i < delta % count);
        if share > 0 {
            diesel::update(shards::table.find((id, shard)))
                .set(shards::remaining.eq(shards::remaining + share))
                .execute(conn)?;
        }
    }
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &CampaignId) -> QueryResult<Option<Campaign>> {
    campaigns::table
        .find(id)
        .select(Campaign::as_select())
        .first(conn)
        .optional()
}

/// The campaign with the path of its union, for scope checks.
pub fn find_with_union_path(
    conn: &mut DbConnection,
    id: &CampaignId,
) -> QueryResult<Option<(Campaign, String)>> {
    campaigns::table
        .inner_join(unions::table)
        .filter(campaigns::id.eq(id))
        .select((Campaign::as_select(), unions::path))
        .first(conn)
        .optional()
}

pub fn station_ids(conn: &mut DbConnection, id: &CampaignId) -> QueryResult<Vec<StationId>> {
    campaign_stations::table
        .filter(campaign_stations::campaign_id.eq(id))
        .select(campaign_stations::station_id)
        .order(campaign_stations::station_id.asc())
        .load(conn)
}

/// Units still claimable.
/// The one `remaining` of the API (campaign detail, lists, stats alike; contract v1.1):
/// released units not held by an issued, unexpired voucher or a redeemed one.
///
/// Counted from the vouchers rather than the shards: an expired voucher's unit belongs to
/// `remaining` from the instant it expires, while the shards get it back when the job (or
/// a claim that needs it) returns it; two reads of the shards and of the not-yet-returned
/// vouchers could straddle that move and count a unit twice or not at all.
pub fn remaining(conn: &mut DbConnection, c: &Campaign, now: NaiveDateTime) -> QueryResult<i64> {
    let (unreleased, _) = releases::unreleased(conn, &c.id)?;
    let held = crate::domain::vouchers::held_count(conn, &c.id, now)?;
    Ok(c.total_stock - unreleased - held)
}

/// The units in the shards: what a claim can take without returning anything first.
pub fn claimable(conn: &mut DbConnection, id: &CampaignId) -> QueryResult<i64> {
    // At most MAX_SHARDS rows; summed here because SUM(BIGINT) is NUMERIC on PostgreSQL.
    let parts: Vec<i64> = shards::table
        .filter(shards::campaign_id.eq(id))
        .select(shards::remaining)
        .load(conn)?;
    Ok(parts.iter().sum())
}

/// Moves the campaign to `to` if it is in one of `from`; false when it was not.
pub fn transition(
    conn: &mut DbConnection,
    id: &CampaignId,
    from: &[CampaignStatus],
    to: CampaignStatus,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = diesel::update(campaigns::table.find(id).filter(campaigns::status.eq_any(from)))
        .set((campaigns::status.eq(to), campaigns::updated_at.eq(now)))
        .execute(conn)?;
    if changed == 1 && to == CampaignStatus::Published {
        diesel::update(
            campaigns::table
                .find(id)
                .filter(campaigns::published_at.is_null()),
        )
        .set(campaigns::published_at.eq(now))
        .execute(conn)?;
    }
    Ok(changed == 1)
}

/// Campaigns newest first: only published ones (what workers browse), or every one under
/// an admin's union path.
pub fn list(
    conn: &mut DbConnection,
    union_path: Option<&str>,
    only_published: bool,
    before: Option<&CampaignId>,
    limit: i64,
) -> QueryResult<Vec<Campaign>> {
    let mut query = campaigns::table
        .inner_join(unions::table)
        .select(Campaign::as_select())
        .order(campaigns::id.desc())
        .limit(limit)
        .into_boxed();
    if only_published {
        query = query.filter(campaigns::status.eq(CampaignStatus::Published));
    }
    if let Some(path) = union_path {
        query = query.filter(unions::path.like(format!("{path}%")));
    }
    if let Some(before) = before {
        query = query.filter(campaigns::id.lt(before));
    }
    query.load(conn)
}
