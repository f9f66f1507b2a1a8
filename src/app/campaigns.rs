//! Campaigns as admins write them: create, edit (a draft freely, a published campaign
//! only in ways that cannot hurt a claimant), publish ⇄ pause, close.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::auth::scope::{AdminScope, ScopeError};
use crate::db::DbConnection;
use crate::domain::campaigns::{self, Campaign, CampaignFields, CampaignStatus};
use crate::domain::civil::{EndInput, StartInput};
use crate::domain::ids::{CampaignId, StationId, UnionId};
use crate::domain::invalid::Invalid;
use crate::domain::rules::Rule;

use super::campaign_checks::{check_rules, check_stations, check_stock, check_window, text};

/// Why a campaign write is refused.
#[derive(Debug, thiserror::Error)]
pub enum CampaignRefusal {
    /// A value the admin sent is out of bounds; the message names the field.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The campaign's state does not allow it (or it changed meanwhile); says why.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(transparent)]
    Scope(#[from] ScopeError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

pub(super) type Refused<T> = Result<T, CampaignRefusal>;

pub(super) fn invalid(field: &str, message: impl Into<String>) -> CampaignRefusal {
    CampaignRefusal::Invalid(Invalid::new(field, message))
}

fn conflict(message: impl Into<String>) -> CampaignRefusal {
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
    };
    check_stock(&fields)?;
    check_window(&fields)?;
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
    Ok(campaigns::create(
        conn,
        &union.id,
        &fields,
        &b.station_ids,
        scope.user(),
        now,
    )?)
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
            campaigns::update_draft(conn, id, &f, &stations, now)?;
        }
        CampaignStatus::Closed => return Err(conflict("活动已结束，不能再修改")),
        CampaignStatus::Published | CampaignStatus::Paused => {
            let fixed = b.item_name.is_some()
                || b.per_worker_limit.is_some()
                || b.claim_starts_at.is_some()
                || b.rules.is_some()
                || b.station_ids.is_some();
            if fixed {
                return Err(conflict("活动发布后只能修改名称、说明、总库存和推迟截止时间"));
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
    Ok(campaigns::find(conn, id)?.ok_or(ScopeError::NotFound)?)
}

/// A lifecycle move an admin makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Publish,
    Pause,
    Close,
}

impl Move {
    fn from(self) -> &'static [CampaignStatus] {
        match self {
            Self::Publish => &[CampaignStatus::Draft, CampaignStatus::Paused],
            Self::Pause => &[CampaignStatus::Published],
            Self::Close => &[
                CampaignStatus::Draft,
                CampaignStatus::Published,
                CampaignStatus::Paused,
            ],
        }
    }

    /// What the move is called on an admin's screen.
    fn label(self) -> &'static str {
        match self {
            Self::Publish => "发布",
            Self::Pause => "暂停",
            Self::Close => "结束",
        }
    }

    fn to(self) -> CampaignStatus {
        match self {
            Self::Publish => CampaignStatus::Published,
            Self::Pause => CampaignStatus::Paused,
            Self::Close => CampaignStatus::Closed,
        }
    }
}

/// Moves the campaign along its lifecycle, conditional on its current status. Publishing
/// needs a station and an open claim window. Call inside a write transaction.
pub fn transition(
    conn: &mut DbConnection,
    scope: &AdminScope,
    id: &CampaignId,
    step: Move,
    now: NaiveDateTime,
) -> Refused<Campaign> {
    let (c, _) = scope.campaign(conn, id)?;
    if step == Move::Publish && campaigns::station_ids(conn, id)?.is_empty() {
        return Err(invalid("station_ids", "发布前请至少指定一个核销驿站"));
    }
    if step == Move::Publish && now >= c.claim_ends_at {
        return Err(conflict("领取截止时间已过，不能发布；请先推迟领取截止时间"));
    }
    if !campaigns::transition(conn, id, step.from(), step.to(), now)? {
        return Err(conflict(format!(
            "{}的活动不能{}",
            c.status.label(),
            step.label()
        )));
    }
    Ok(campaigns::find(conn, id)?.ok_or(ScopeError::NotFound)?)
}
