//! Who may claim what, and why not: rules plus the campaign's own state.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::sessions::{SessionSeen, SessionState};
use crate::db::schema::{unions, users};
use crate::db::DbConnection;
use crate::domain::campaigns::{Campaign, CampaignMode, CampaignStatus};
use crate::domain::ids::{CampaignId, SessionId, UserId};
use crate::domain::profile::{Occupation, Role};
use crate::domain::rules::{self, MemberFacts, NamedUnion, Reason, WorkerFacts};
use crate::domain::standing::{self, Held, Standing};

/// The profile columns the rules read.
pub const PROFILE: (
    users::occupation,
    users::occupation_verified,
    users::region_code,
    users::hardship_archived,
) = (
    users::occupation,
    users::occupation_verified,
    users::region_code,
    users::hardship_archived,
);

/// A row of `PROFILE`.
pub type ProfileRow = (Option<Occupation>, bool, Option<String>, bool);

/// What the rules see of a worker with this profile and membership.
pub fn facts(profile: ProfileRow, membership: Option<MemberFacts>) -> WorkerFacts {
    let (occupation, occupation_verified, region_code, hardship_archived) = profile;
    WorkerFacts {
        occupation,
        occupation_verified,
        region_code,
        hardship_archived,
        membership,
        application_pending: false,
        open_wishes: Vec::new(),
    }
}

pub fn named_unions(conn: &mut DbConnection, rules: &[rules::Rule]) -> QueryResult<Vec<NamedUnion>> {
    let ids = rules::named_unions(rules);
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(crate::domain::ids::UnionId, String, String)> = unions::table
        .filter(unions::id.eq_any(ids))
        .select((unions::id, unions::name, unions::path))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, path)| NamedUnion { id, name, path })
        .collect())
}

/// Why claims are closed right now: not open yet (a draft, paused, or before the
/// window) or over for good (closed, or past the window). A claim answers
/// `CAMPAIGN_NOT_OPEN` or `CAMPAIGN_ENDED` accordingly.
#[derive(Debug, Clone)]
pub enum Closed {
    NotOpen(Reason),
    Ended(Reason),
}

impl Closed {
    pub fn reason(&self) -> &Reason {
        match self {
            Self::NotOpen(r) | Self::Ended(r) => r,
        }
    }
}

/// Whether claims are open right now; why not when they are not.
pub fn window(campaign: &Campaign, now: NaiveDateTime) -> Option<Closed> {
    let ended = || Closed::Ended(Reason::new("CAMPAIGN_ENDED", "活动已结束"));
    match campaign.status {
        CampaignStatus::Draft => Some(Closed::NotOpen(Reason::new("CAMPAIGN_NOT_OPEN", "活动尚未发布"))),
        CampaignStatus::Paused => Some(Closed::NotOpen(Reason::new(
            "CAMPAIGN_NOT_OPEN",
            "活动暂停中，请稍后再来",
        ))),
        CampaignStatus::Closed => Some(ended()),
        CampaignStatus::Published if now < campaign.claim_starts_at => Some(Closed::NotOpen(Reason::new(
            "CAMPAIGN_NOT_OPEN",
            format!(
                "活动尚未开始，{} 起可领取",
                crate::domain::civil::show(campaign.claim_starts_at)
            ),
        ))),
        CampaignStatus::Published if now >= campaign.claim_ends_at => Some(ended()),
        CampaignStatus::Published if campaign.mode == CampaignMode::Allocate => {
            Some(Closed::NotOpen(Reason::new(
                "CAMPAIGN_NOT_OPEN",
                "本活动由工会按名单直接发放，无需领取；符合条件的职工会收到通知，在卡包中查看",
            )))
        }
        CampaignStatus::Published => None,
    }
}

/// Everything that stands between a worker and a voucher.
#[derive(Debug)]
pub struct Assessment {
    pub window: Option<Closed>,
    pub rules: Vec<Reason>,
    /// The worker's vouchers of this campaign.
    pub held: Held,
    /// Nothing to claim now (a batch already due counts as there).
    pub sold_out: bool,
    /// When the next batch comes, if one is scheduled (for `SOLD_OUT`'s words).
    pub next_release_at: Option<NaiveDateTime>,
    pub limit_reached: bool,
}

impl Assessment {
    /// Every reason, campaign state included, for the eligibility answer.
    pub fn reasons(&self) -> Vec<Reason> {
        let mut all: Vec<Reason> = self.window.iter().map(|w| w.reason().clone()).collect();
        all.extend(self.rules.iter().cloned());
        if self.sold_out {
            all.push(match self.next_release_at {
                Some(at) => Reason::new(
                    "SOLD_OUT",
                    format!("本批礼包已领完，下一批 {} 放出", crate::domain::civil::show(at)),
                ),
                None => Reason::new("SOLD_OUT", "礼包已领完"),
            });
        }
        if self.limit_reached {
            all.push(self.already_claimed());
        }
        all
    }
}

impl Assessment {
    /// `ALREADY_CLAIMED`, worded for a worker who gave every voucher back.
    pub fn already_claimed(&self) -> Reason {
        if self.held.all_given_back {
            Reason::new(
                "ALREADY_CLAIMED",
                "您领取后已退还本活动的礼包，退还的券也计入每人限领次数，不能再次领取",
            )
        } else {
            Reason::new("ALREADY_CLAIMED", "您已领取过本活动的礼包，请在“卡包”中查看")
        }
    }
}

/// The campaign (published, paused or closed: a draft is `None`, as is a campaign or user
/// that does not exist) and everything that stands between `user` and a voucher of it at
/// `now`: one read of the campaign and the worker's standing (`standing::read`), plus the
/// open wishes and the named unions when the campaign's rules look at them.
pub fn assess(
    conn: &mut DbConnection,
    campaign: &CampaignId,
    user: &UserId,
    now: NaiveDateTime,
) -> QueryResult<Option<(Campaign, Assessment)>> {
    match standing::read(conn, campaign, user, None)? {
        Some((campaign, standing, _)) => finish(conn, campaign, standing, user, now),
        None => Ok(None),
    }
}

/// A campaign and a worker's assessment in it.
pub type Assessed = (Campaign, Assessment);

/// `assess` with the check of `user`'s `session` in the same statement: what that
/// statement saw of the session (`None` when the campaign or the user does not exist: the
/// caller checks the session on its own), and the assessment, whose further reads run only
/// for a live worker's session that may be used as it is (no forced password change).
pub fn assess_as(
    conn: &mut DbConnection,
    campaign: &CampaignId,
    user: &UserId,
    session: &SessionId,
    now: NaiveDateTime,
) -> QueryResult<(Option<SessionSeen>, Option<Assessed>)> {
    let Some((campaign, standing, seen)) = standing::read(conn, campaign, user, Some(session))? else {
        return Ok((None, None));
    };
    if !matches!(
        SessionState::of(Some(seen)),
        SessionState::Active(Role::Worker, false)
    ) {
        return Ok((Some(seen), None));
    }
    Ok((Some(seen), finish(conn, campaign, standing, user, now)?))
}

/// The assessment from a standing read: the window, the rules (with the reads they need),
/// the limit and the stock. A draft is `None`.
fn finish(
    conn: &mut DbConnection,
    campaign: Campaign,
    standing: Standing,
    user: &UserId,
    now: NaiveDateTime,
) -> QueryResult<Option<(Campaign, Assessment)>> {
    if campaign.status == CampaignStatus::Draft {
        return Ok(None);
    }
    let Standing {
        mut facts,
        held,
        stock_left,
    } = standing;
    // `per_worker_limit >= 1` is a CHECK constraint; a value out of range is corrupt.
    let limit = i64::from(campaign.per_worker_limit.max(1));
    let rules = campaign.rules()?;
    if rules::reads_wishes(&rules) {
        facts.open_wishes = crate::domain::wishes::open_categories(conn, std::slice::from_ref(user))?
            .remove(user)
            .unwrap_or_default();
    }
    let named = named_unions(conn, &rules)?;
    let assessment = Assessment {
        window: window(&campaign, now),
        rules: rules::unmet(&rules, &facts, &named),
        limit_reached: held.count >= limit,
        held,
        // What a claim could take: the shards, a unit an expired voucher still has to give
        // back (the claim returns it), or a batch already due (the claim releases it).
        sold_out: !stock_left
            && campaign.next_release_at.is_none_or(|t| t > now)
            && !standing::unreturned(conn, &campaign.id, now)?,
        next_release_at: campaign.next_release_at.filter(|t| *t > now),
    };
    Ok(Some((campaign, assessment)))
}

pub use super::dry_run::{dry_run, members_page, DryRun, MEMBER_PAGE};
