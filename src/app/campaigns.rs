//! Campaigns as admins write them: create, edit (a draft freely, a published campaign
//! only in ways that cannot hurt a claimant), publish ⇄ pause, close.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::scope::{AdminScope, ScopeError};
use crate::db::DbConnection;
use crate::domain::campaigns::{self, Campaign, CampaignFields, CampaignMode, CampaignStatus, Fulfilment};
use crate::domain::civil::{EndInput, StartInput};
use crate::domain::ids::{CampaignId, StationId, UnionId};
use crate::domain::invalid::Invalid;
use crate::domain::releases::{self, ReleaseInput};
use crate::domain::rules::Rule;

use super::campaign_checks::{check_rules, check_stations, check_stock, check_window, text};
pub use super::campaign_lifecycle::{delete, transition, Move};

/// Why a campaign write is refused.
#[derive(Debug, thiserror::Error)]
pub enum CampaignRefusal {
    /// A value the admin sent is out of bounds; the message names the field.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The campaign's state does not allow it (or it changed meanwhile); says why.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Publishing an allocation the stock does not cover.
    #[error(transparent)]
    Allocation(#[from] super::allocation::AllocationRefusal),
    #[error(transparent)]
    Scope(#[from] ScopeError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

pub(super) type Refused<T> = Result<T, CampaignRefusal>;

pub(super) fn invalid(field: &str, message: impl Into<String>) -> CampaignRefusal {
    CampaignRefusal::Invalid(Invalid::new(field, message))
}

pub(super) fn conflict(message: impl Into<String>) -> CampaignRefusal {
    CampaignRefusal::Conflict(message.into())
}

/// `POST /admin/campaigns`. Times are RFC 3339 instants, civil date-times or civil dates
/// (see `domain::civil`); kept at microseconds.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewCampaign {
    pub union_id: UnionId,
    pub title: String,
    pub item_name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub total_stock: i64,
    #[serde(default)]
    pub per_worker_limit: Option<i32>,
    pub claim_starts_at: StartInput,
    pub claim_ends_at: EndInput,
    pub redeem_until: EndInput,
    #[serde(default)]
    pub station_ids: Vec<StationId>,
    pub rules: Vec<Rule>,
    /// Days a voucher stays valid after it is issued (never past `redeem_until`).
    #[serde(default)]
    pub voucher_valid_days: Option<i32>,
    /// Batches `{at, quantity}` summing to `total_stock`; none: all at `claim_starts_at`.
    #[serde(default)]
    pub stock_releases: Option<Vec<ReleaseInput>>,
    /// `claim` (default) or `allocate` (精准发放).
    #[serde(default)]
    pub mode: Option<CampaignMode>,
    /// `pickup` (default) or `delivery` (送货上门).
    #[serde(default)]
    pub fulfilment: Option<Fulfilment>,
}

/// `PATCH /admin/campaigns/{id}`: absent fields stay as they are.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignEdit {
    pub title: Option<String>,
    pub item_name: Option<String>,
    pub description: Option<String>,
    pub total_stock: Option<i64>,
    pub per_worker_limit: Option<i32>,
    pub claim_starts_at: Option<StartInput>,
    pub claim_ends_at: Option<EndInput>,
    pub redeem_until: Option<EndInput>,
    pub station_ids: Option<Vec<StationId>>,
    pub rules: Option<Vec<Rule>>,
    pub voucher_valid_days: Option<i32>,
    pub stock_releases: Option<Vec<ReleaseInput>>,
    pub mode: Option<CampaignMode>,
    pub fulfilment: Option<Fulfilment>,
}

/// Creates a draft under a union of the admin's scope. Call inside a write transaction.
pub fn create(
    conn: &mut DbConnection,
    scope: &AdminScope,
    b: &NewCampaign,
    now: NaiveDateTime,
) -> Refused<Campaign> {
    let mut fields = CampaignFields {
        title: String::new(),
        item_name: String::new(),
        description: None,
        total_stock: b.total_stock,
        per_worker_limit: b.per_worker_limit.unwrap_or(1),
        claim_starts_at: b.claim_starts_at.0,
        claim_ends_at: b.claim_ends_at.0,
        redeem_until: b.redeem_until.0,
        rules: String::new(),
        voucher_valid_days: b.voucher_valid_days,
        mode: b.mode.unwrap_or_default(),
        fulfilment: b.fulfilment.unwrap_or_default(),
    };
    check_stock(&fields)?;
    check_window(&fields)?;
    check_batches(&fields, b.stock_releases.as_deref())?;
    check_allocation(&fields, b.stock_releases.is_some())?;
    fields.title = text(&b.title, "title", 100)?;
    fields.item_name = text(&b.item_name, "item_name", 100)?;
    fields.description = b
        .description
        .as_deref()
        .map(|d| text(d, "description", 2000))
        .transpose()?;
    let union = scope.union(conn, &b.union_id)?;
    check_stations(conn, &union.path, &b.station_ids)?;
    fields.rules = check_rules(conn, &b.rules)?;
    let c = campaigns::create(
        conn,
        &union.id,
        &fields,
        &b.station_ids,
        b.stock_releases.as_deref(),
        scope.user(),
        now,
    )?;
    let data = json!({"total_stock": c.total_stock, "station_ids": b.station_ids});
    super::campaign_lifecycle::audit_campaign(conn, scope, "campaign.created", &c, data, now)?;
    Ok(c)
}

/// The campaign's fields with the edit applied (not yet checked against its state).
fn edited(c: &Campaign, b: &CampaignEdit) -> Refused<CampaignFields> {
    let f = CampaignFields {
        title: b
            .title
            .as_deref()
            .map(|t| text(t, "title", 100))
            .transpose()?
            .unwrap_or(c.title.clone()),
        item_name: (b
            .item_name
            .as_deref()
            .map(|t| text(t, "item_name", 100))
            .transpose()?)
        .unwrap_or(c.item_name.clone()),
        description: (b
            .description
            .as_deref()
            .map(|t| text(t, "description", 2000))
            .transpose()?)
        .or(c.description.clone()),
        total_stock: b.total_stock.unwrap_or(c.total_stock),
        per_worker_limit: b.per_worker_limit.unwrap_or(c.per_worker_limit),
        claim_starts_at: b.claim_starts_at.map_or(c.claim_starts_at, |t| t.0),
        claim_ends_at: b.claim_ends_at.map_or(c.claim_ends_at, |t| t.0),
        redeem_until: b.redeem_until.map_or(c.redeem_until, |t| t.0),
        rules: c.rules.clone(),
        voucher_valid_days: b.voucher_valid_days.or(c.voucher_valid_days),
        mode: b.mode.unwrap_or(c.mode),
        fulfilment: b.fulfilment.unwrap_or(c.fulfilment),
    };
    check_stock(&f)?;
    check_window(&f)?;
    Ok(f)
}

/// Drafts change freely. Once published: title and description, stock only upwards,
/// and the claim and redeem deadlines only later. Takes the optimistic lock
/// (`campaigns::begin_edit`). Call inside a write transaction.
pub fn edit(
    conn: &mut DbConnection,
    scope: &AdminScope,
    id: &CampaignId,
    b: &CampaignEdit,
    now: NaiveDateTime,
) -> Refused<Campaign> {
    let (c, union_path) = scope.campaign(conn, id)?;
    let mut f = edited(&c, b)?;
    if !campaigns::begin_edit(conn, &c, now)? {
        return Err(conflict("活动刚被其他人修改过，请刷新后再改"));
    }
    match c.status {
        CampaignStatus::Draft => {
            if let Some(rules) = &b.rules {
                f.rules = check_rules(conn, rules)?;
            }
            let stations = match &b.station_ids {
                Some(s) => s.clone(),
                None => campaigns::station_ids(conn, id)?,
            };
            check_stations(conn, &union_path, &stations)?;
            let batches = match &b.stock_releases {
                Some(batches) => Some(batches.clone()),
                // An allocation hands out everything at publication: stored batches go.
                None if f.mode == CampaignMode::Allocate => None,
                None => current_batches(conn, id)?,
            };
            check_batches(&f, batches.as_deref())?;
            check_allocation(&f, b.stock_releases.is_some())?;
            campaigns::update_draft(conn, id, &f, &stations, batches.as_deref(), now)?;
        }
        CampaignStatus::Closed => return Err(conflict("活动已结束，不能再修改")),
        CampaignStatus::Published | CampaignStatus::Paused => {
            let fixed = b.item_name.is_some()
                || b.per_worker_limit.is_some()
                || b.claim_starts_at.is_some()
                || b.voucher_valid_days.is_some()
                || b.stock_releases.is_some()
                || b.mode.is_some()
                || b.fulfilment.is_some();
            if fixed {
                return Err(conflict(
                    "活动发布后只能修改名称、说明、总库存、推迟截止时间、增加驿站；首张券发出前还可修改规则",
                ));
            }
            if let Some(rules) = &b.rules {
                if campaigns::has_vouchers(conn, id)? {
                    return Err(conflict("已有职工领取，领取规则不能再改"));
                }
                f.rules = check_rules(conn, rules)?;
            }
            if let Some(stations) = &b.station_ids {
                let current = campaigns::station_ids(conn, id)?;
                if current.iter().any(|s| !stations.contains(s)) {
                    return Err(conflict("活动发布后只能增加驿站，不能移除已公布的驿站"));
                }
                check_stations(conn, &union_path, stations)?;
                campaigns::add_stations(conn, id, stations)?;
            }
            if f.total_stock < c.total_stock
                || f.claim_ends_at < c.claim_ends_at
                || f.redeem_until < c.redeem_until
            {
                return Err(conflict("活动发布后库存只能增加，截止时间只能推迟"));
            }
            campaigns::update_published(conn, &c, &f, now)?;
        }
    }
    let data = json!({"total_stock": f.total_stock, "status": c.status});
    super::campaign_lifecycle::audit_campaign(conn, scope, "campaign.updated", &c, data, now)?;
    Ok(campaigns::find(conn, id)?.ok_or(ScopeError::NotFound)?)
}

/// Batches, if any, fit the stock and the window.
fn check_batches(f: &CampaignFields, batches: Option<&[ReleaseInput]>) -> Refused<()> {
    if f.voucher_valid_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        return Err(invalid("voucher_valid_days", "有效天数应在 1 到 3650 之间"));
    }
    if let Some(batches) = batches {
        releases::validate(batches, f.total_stock, f.claim_ends_at)?;
    }
    Ok(())
}

/// An allocation gives each admitted worker one voucher, all at publication: no higher
/// limit, no batches.
fn check_allocation(f: &CampaignFields, batches_given: bool) -> Refused<()> {
    if f.mode != CampaignMode::Allocate {
        return Ok(());
    }
    if f.per_worker_limit != 1 {
        return Err(invalid(
            "per_worker_limit",
            "精准发放的活动每人一份，每人限领须为 1",
        ));
    }
    if batches_given {
        return Err(invalid(
            "stock_releases",
            "精准发放的活动在发布时一次发出，不能分批放量",
        ));
    }
    Ok(())
}

/// A draft's stored batches as input again (an edit that does not touch them keeps them).
fn current_batches(conn: &mut DbConnection, id: &CampaignId) -> Refused<Option<Vec<ReleaseInput>>> {
    let stored = releases::list(conn, id)?;
    Ok((!stored.is_empty()).then(|| {
        stored
            .into_iter()
            .map(|r| ReleaseInput {
                at: crate::domain::civil::StartInput(r.release_at),
                quantity: r.quantity,
            })
            .collect()
    }))
}
