//! What the worker-facing campaign routes share: a worker's assessment with the session
//! checked in the same statement (the eligibility page, and a claim the first statement
//! declined).

use crate::auth::Presented;
use crate::db::DbConnection;
use crate::domain::eligibility;
use crate::domain::ids::CampaignId;
use crate::domain::now;
use crate::domain::profile::Role;
use crate::error::ApiError;

/// The assessment of `presented`'s user in `campaign`, the session checked in the same
/// statement (`eligibility::assess_as`) and settled before anything else: a refused
/// session, or a caller who is not a worker, gets that refusal and nothing more. `None`:
/// no such campaign, or a draft.
pub fn assess(
    conn: &mut DbConnection,
    presented: Presented,
    campaign: &CampaignId,
) -> Result<Option<eligibility::Assessed>, ApiError> {
    let (user, session) = (
        presented.unverified_user().clone(),
        presented.unverified_session().clone(),
    );
    let (seen, assessed) = eligibility::assess_as(conn, campaign, &user, &session, now())?;
    presented.settle_seen(conn, seen)?.require(&[Role::Worker])?;
    Ok(assessed)
}
