//! A campaign's lifecycle as its admins move it: publish, pause, close, delete a draft;
//! each move conditional on the current status and audited in its transaction.

use chrono::NaiveDateTime;
use serde_json::json;

use super::campaigns::{conflict, invalid, Refused};
use super::changes;
use crate::auth::scope::{AdminScope, ScopeError};
use crate::db::DbConnection;
use crate::domain::campaigns::{self, Campaign, CampaignMode, CampaignStatus};
use crate::domain::ids::CampaignId;
use crate::domain::releases;

/// `DELETE /admin/campaigns/{id}`: a draft goes; anything else stays (409).
pub fn delete(
    conn: &mut DbConnection,
    scope: &AdminScope,
    id: &CampaignId,
    now: NaiveDateTime,
) -> Refused<()> {
    let (c, _) = scope.campaign(conn, id)?;
    if !campaigns::delete_draft(conn, id)? {
        return Err(conflict("只能删除草稿；已发布的活动请暂停或结束"));
    }
    audit_campaign(conn, scope, "campaign.deleted", &c, json!({}), now)
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
    if step == Move::Publish {
        // Batches already due come out with the publication, not a tick later.
        releases::release_due(conn, id, now)?;
        if c.mode == CampaignMode::Allocate && c.status == CampaignStatus::Draft {
            // Refused (and the publication rolled back) if the stock cannot cover everyone.
            // Resuming a paused one allocates nobody new: top-ups are asked for.
            super::allocation::prepare(conn, &c, now)?;
        }
    }
    let action = match step {
        Move::Publish => "campaign.published",
        Move::Pause => "campaign.paused",
        Move::Close => "campaign.closed",
    };
    audit_campaign(conn, scope, action, &c, json!({"from": c.status}), now)?;
    Ok(campaigns::find(conn, id)?.ok_or(ScopeError::NotFound)?)
}

/// The audit entry of an admin's change to a campaign.
pub(super) fn audit_campaign(
    conn: &mut DbConnection,
    scope: &AdminScope,
    action: &str,
    c: &Campaign,
    data: serde_json::Value,
    now: NaiveDateTime,
) -> Refused<()> {
    let actor = Some(scope.user().as_str());
    let subject = ("campaign", c.id.as_str());
    Ok(changes::audited(
        conn,
        actor,
        action,
        subject,
        Some(&c.union_id),
        data,
        now,
    )?)
}
