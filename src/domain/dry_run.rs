//! A campaign's rules run over the current members of a subtree, a page at a time: the
//! dry run's counts, and the pages the allocation walks.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{memberships, unions, users};
use crate::db::DbConnection;
use crate::domain::campaigns::Campaign;
use crate::domain::eligibility::{facts, named_unions, ProfileRow, PROFILE};
use crate::domain::ids::UserId;
use crate::domain::rules::{self, MemberFacts, WorkerFacts};

/// What a dry run of a campaign's rules found among the current members of a subtree.
#[derive(Debug, serde::Serialize)]
pub struct DryRun {
    pub members_considered: usize,
    pub admitted: u64,
    /// How many members each unmet condition keeps out, by reason code.
    pub unmet: std::collections::BTreeMap<&'static str, u64>,
}

/// A page of the current members of unions under `union_path`, by user id after `after`,
/// each with what the rules see (open wishes included). Bounded by `limit`, so a walk over
/// a province's members holds one page at a time.
pub fn members_page(
    conn: &mut DbConnection,
    union_path: &str,
    after: Option<&UserId>,
    limit: i64,
) -> QueryResult<Vec<(UserId, WorkerFacts)>> {
    let mut query = users::table
        .inner_join(
            memberships::table.on(memberships::user_id
                .eq(users::id)
                .and(memberships::ended_at.is_null())),
        )
        .inner_join(unions::table.on(unions::id.eq(memberships::union_id)))
        .filter(unions::path.like(format!("{union_path}%")))
        // Workers only: a staff account's membership, or a disabled account, gets nothing.
        .filter(users::role.eq(crate::domain::profile::Role::Worker))
        .filter(users::disabled_at.is_null())
        .select((users::id, PROFILE, (unions::path, memberships::since)))
        .order(users::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(users::id.gt(after));
    }
    let rows: Vec<(UserId, ProfileRow, (String, NaiveDateTime))> = query.load(conn)?;
    let ids: Vec<UserId> = rows.iter().map(|(id, _, _)| id.clone()).collect();
    let mut wishes = crate::domain::wishes::open_categories(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|(id, profile, (union_path, since))| {
            let mut f = facts(profile, Some(MemberFacts { union_path, since }));
            f.open_wishes = wishes.remove(&id).unwrap_or_default();
            (id, f)
        })
        .collect())
}

/// Members read per page by the dry run and the allocation.
pub const MEMBER_PAGE: i64 = 500;

/// Evaluates the campaign's rules for every current member of unions under
/// `union_path` ("/" for all), a page at a time. Reads only.
pub fn dry_run(conn: &mut DbConnection, campaign: &Campaign, union_path: &str) -> QueryResult<DryRun> {
    let rules = campaign.rules()?;
    let named = named_unions(conn, &rules)?;
    let mut result = DryRun {
        members_considered: 0,
        admitted: 0,
        unmet: Default::default(),
    };
    let mut after: Option<UserId> = None;
    loop {
        let page = members_page(conn, union_path, after.as_ref(), MEMBER_PAGE)?;
        let Some((last, _)) = page.last() else { break };
        after = Some(last.clone());
        result.members_considered += page.len();
        for (_, facts) in &page {
            let unmet = rules::unmet(&rules, facts, &named);
            if unmet.is_empty() {
                result.admitted += 1;
            }
            for reason in unmet {
                *result.unmet.entry(reason.code).or_default() += 1;
            }
        }
    }
    Ok(result)
}
