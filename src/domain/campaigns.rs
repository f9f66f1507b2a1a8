//! Campaigns: what is given, to whom (rules), how many (stock, split over shards), when,
//! and where it can be redeemed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{campaign_stations, campaigns, unions};
use crate::db::DbConnection;
pub use crate::domain::campaign_modes::{CampaignMode, Fulfilment};
use crate::domain::ids::{CampaignId, StationId, UnionId, UserId};
use crate::domain::releases::ReleaseInput;
use crate::domain::rules::Rule;
use crate::domain::stock;
pub use crate::domain::stock::{claimable, remaining, MAX_SHARDS};

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
    pub mode: CampaignMode,
    pub fulfilment: Fulfilment,
    /// An allocation that has not finished a full pass yet (the jobs finish it).
    pub allocation_pending: bool,
    /// Bumped by each publication or top-up (`domain::allocation`).
    pub allocation_generation: i32,
    /// When a pass last committed a batch.
    pub allocation_heartbeat: Option<NaiveDateTime>,
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
    pub mode: CampaignMode,
    pub fulfilment: Fulfilment,
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
    stock::set_releases(conn, &id, fields, releases)?;
    find(conn, &id)?.ok_or(diesel::result::Error::NotFound)
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
    stock::set_releases(conn, id, fields, releases)
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
    stock::add_stock(conn, &current.id, fields.total_stock - current.total_stock)?;
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
        stock::clear(conn, id)?;
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
