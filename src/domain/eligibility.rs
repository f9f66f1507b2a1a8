//! Who may claim what, and why not: rules plus the campaign's own state.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{memberships, unions, users, vouchers};
use crate::db::DbConnection;
use crate::domain::campaigns::{self, Campaign, Status};
use crate::domain::ids::{UserId, VoucherId};
use crate::domain::profile::Occupation;
use crate::domain::rules::{self, MemberFacts, NamedUnion, Reason, WorkerFacts};

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
pub type ProfileRow = (Option<String>, bool, Option<String>, bool);

/// What the rules see of a worker with this profile and membership.
pub fn facts(profile: ProfileRow, membership: Option<MemberFacts>) -> WorkerFacts {
    let (occupation, occupation_verified, region_code, hardship_archived) = profile;
    WorkerFacts {
        occupation: occupation.as_deref().and_then(Occupation::parse),
        occupation_verified,
        region_code,
        hardship_archived,
        membership,
    }
}

pub fn worker_facts(conn: &mut DbConnection, user: &UserId) -> QueryResult<WorkerFacts> {
    let profile: ProfileRow = users::table.find(user).select(PROFILE).first(conn)?;
    let membership = memberships::table
        .inner_join(unions::table)
        .filter(memberships::user_id.eq(user))
        .filter(memberships::ended_at.is_null())
        .select((unions::path, memberships::since))
        .first::<(String, NaiveDateTime)>(conn)
        .optional()?
        .map(|(union_path, since)| MemberFacts { union_path, since });
    Ok(facts(profile, membership))
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

/// The worker's vouchers of a campaign, newest first (any status: a cancelled one still
/// counts against the per-worker limit).
pub fn held(conn: &mut DbConnection, campaign: &Campaign, user: &UserId) -> QueryResult<Vec<VoucherId>> {
    vouchers::table
        .filter(vouchers::campaign_id.eq(&campaign.id))
        .filter(vouchers::user_id.eq(user))
        .order(vouchers::claim_no.desc())
        .select(vouchers::id)
        .load(conn)
}

/// Whether claims are open right now; the reason when not.
pub fn window_reason(campaign: &Campaign, now: NaiveDateTime) -> Option<Reason> {
    match campaign.status() {
        Status::Draft => Some(Reason::new("CAMPAIGN_NOT_OPEN", "活动尚未发布")),
        Status::Paused => Some(Reason::new("CAMPAIGN_NOT_OPEN", "活动暂停中，请稍后再来")),
        Status::Closed => Some(Reason::new("CAMPAIGN_ENDED", "活动已结束")),
        Status::Published if now < campaign.claim_starts_at => Some(Reason::new(
            "CAMPAIGN_NOT_OPEN",
            format!(
                "活动尚未开始，{} 起可领取",
                crate::domain::utc(campaign.claim_starts_at).format("%Y-%m-%d %H:%M UTC")
            ),
        )),
        Status::Published if now >= campaign.claim_ends_at => {
            Some(Reason::new("CAMPAIGN_ENDED", "活动已结束"))
        }
        Status::Published => None,
    }
}

/// Everything that stands between a worker and a voucher.
#[derive(Debug)]
pub struct Assessment {
    pub window: Option<Reason>,
    pub rules: Vec<Reason>,
    pub held: Vec<VoucherId>,
    pub sold_out: bool,
    pub limit_reached: bool,
}

impl Assessment {
    /// Every reason, campaign state included, for the eligibility answer.
    pub fn reasons(&self) -> Vec<Reason> {
        let mut all: Vec<Reason> = self.window.iter().cloned().collect();
        all.extend(self.rules.iter().cloned());
        if self.sold_out {
            all.push(Reason::new("SOLD_OUT", "礼包已领完"));
        }
        if self.limit_reached {
            all.push(Reason::new("ALREADY_CLAIMED", "您已领取过本活动的礼包"));
        }
        all
    }
}

pub fn assess(
    conn: &mut DbConnection,
    campaign: &Campaign,
    user: &UserId,
    now: NaiveDateTime,
) -> QueryResult<Assessment> {
    let rules = campaign.rules()?;
    let facts = worker_facts(conn, user)?;
    let named = named_unions(conn, &rules)?;
    let held = held(conn, campaign, user)?;
    Ok(Assessment {
        window: window_reason(campaign, now),
        rules: rules::unmet(&rules, &facts, &named),
        limit_reached: held.len() >= campaign.per_worker_limit.max(1) as usize,
        held,
        sold_out: campaigns::remaining(conn, &campaign.id)? == 0,
    })
}
