//! Joining and transferring (入会/转会): a worker's own application, an admin's decision,
//! and a counter's on-site join.

use chrono::NaiveDateTime;
use diesel::QueryResult;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::scope::{AdminScope, CounterScope, ScopeError};
use crate::db::DbConnection;
use crate::domain::audit::{self, Audit};
use crate::domain::ids::{ApplicationId, MembershipId, StationId, UnionId, UserId};
use crate::domain::invalid::Invalid;
use crate::domain::join_codes;
use crate::domain::membership::{
    self as ms, Application, ApplicationKind, Membership, MembershipError, Submission,
};
use crate::domain::notifications::{self, NewNotification, NotificationKind};
use crate::domain::org;
use crate::domain::profile::Role;
use crate::domain::users;
use crate::domain::voucher_code::VoucherKeys;

/// Why a membership step is refused.
#[derive(Debug, thiserror::Error)]
pub enum MembershipRefusal {
    #[error("no such union")]
    UnionNotFound,
    /// On-site: the join code is unknown, used or expired (one answer for all three).
    #[error("no such join code")]
    UnknownJoinCode,
    /// On-site: the counter does not serve this union or station.
    #[error("not this counter's union or station")]
    NotServed,
    /// Already a member, an application pending, not a member, or decided already.
    #[error(transparent)]
    Membership(#[from] MembershipError),
    /// The membership had ended already.
    #[error("membership ended")]
    Ended,
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Scope(#[from] ScopeError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

type Refused<T> = Result<T, MembershipRefusal>;

/// A worker applies to join `union` (`Join`) or to move there (`Transfer`).
/// Call inside a write transaction.
pub fn apply(
    conn: &mut DbConnection,
    worker: &UserId,
    union: &UnionId,
    kind: ApplicationKind,
    now: NaiveDateTime,
) -> Refused<Application> {
    org::find_union(conn, union)?.ok_or(MembershipRefusal::UnionNotFound)?;
    let s = Submission {
        kind,
        user: worker,
        union,
        submitted_by: worker,
        station: None,
    };
    let app = ms::submit(conn, s, now)?;
    let action = match kind {
        ApplicationKind::Join => "membership.applied",
        ApplicationKind::Transfer => "membership.transfer_requested",
    };
    audit_application(conn, worker, action, &app, now)?;
    Ok(app)
}

/// The audit entry of a step on an application, readable by the target union's office.
fn audit_application(
    conn: &mut DbConnection,
    actor: &UserId,
    action: &str,
    app: &Application,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let data = json!({"application_id": app.id, "kind": app.kind, "union_id": app.union_id});
    let entry = Audit::new(Some(actor.as_str()), action, "user", app.user_id.as_str())
        .union(&app.union_id)
        .data(data);
    audit::record(conn, entry, now)
}

/// An admin of the target union's subtree approves: a join creates a membership with a
/// member number; a transfer ends the old one and keeps its `since`.
/// Call inside a write transaction.
pub fn approve(
    conn: &mut DbConnection,
    scope: &AdminScope,
    id: &ApplicationId,
    kind: ApplicationKind,
    now: NaiveDateTime,
) -> Refused<Application> {
    let app = scope.application(conn, id, kind)?;
    ms::approve(conn, &app, scope.user(), now)?;
    audit_application(conn, scope.user(), "membership.approved", &app, now)?;
    Ok(ms::find(conn, id)?.ok_or(ScopeError::NotFound)?)
}

/// An admin rejects with a reason the applicant will read. Call inside a write transaction.
pub fn reject(
    conn: &mut DbConnection,
    scope: &AdminScope,
    id: &ApplicationId,
    kind: ApplicationKind,
    reason: &str,
    now: NaiveDateTime,
) -> Refused<Application> {
    let app = scope.application(conn, id, kind)?;
    ms::reject(conn, id, scope.user(), reason, now)?;
    audit_application(conn, scope.user(), "membership.rejected", &app, now)?;
    Ok(ms::find(conn, id)?.ok_or(ScopeError::NotFound)?)
}

/// `POST /counter/membership-applications`: a registered worker, at a station.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OnSiteJoin {
    /// The 8 digits the worker's app shows (`POST /me/join-codes`): the worker's consent.
    pub join_code: String,
    pub union_id: UnionId,
    #[serde(default)]
    pub station_id: Option<StationId>,
}

/// A counter files a join for the worker whose join code it was shown; where the union
/// allows it, the same counter's filing is approved at once. The code is used up in the
/// same transaction (a refusal rolls it back). Call inside a write transaction.
pub fn join_on_site(
    conn: &mut DbConnection,
    scope: &CounterScope,
    keys: &VoucherKeys,
    b: &OnSiteJoin,
    now: NaiveDateTime,
) -> Refused<Application> {
    let at_own_station = b.station_id.as_ref().is_none_or(|s| {
        scope
            .stations
            .iter()
            .any(|(id, union, _)| id == s && union == &b.union_id)
    });
    if !scope.serves_union(&b.union_id) || !at_own_station {
        return Err(MembershipRefusal::NotServed);
    }
    let code = join_codes::normalise(&b.join_code)
        .ok_or_else(|| Invalid::new("join_code", "入会码应为 8 位数字"))?;
    let worker_id = join_codes::consume(conn, keys, &code, now)?.ok_or(MembershipRefusal::UnknownJoinCode)?;
    let worker = users::find(conn, &worker_id)?
        .filter(|u| u.role == Role::Worker)
        .ok_or(MembershipRefusal::UnknownJoinCode)?;
    let union = org::find_union(conn, &b.union_id)?.ok_or(MembershipRefusal::UnionNotFound)?;
    let s = Submission {
        kind: ApplicationKind::Join,
        user: &worker.id,
        union: &union.id,
        submitted_by: &scope.user,
        station: b.station_id.as_ref(),
    };
    let app = ms::submit(conn, s, now)?;
    audit_application(conn, &scope.user, "membership.applied_on_site", &app, now)?;
    if union.onsite_auto_approve {
        ms::approve(conn, &app, &scope.user, now)?;
        audit_application(conn, &scope.user, "membership.approved", &app, now)?;
    }
    Ok(ms::find(conn, &app.id)?.ok_or(ScopeError::NotFound)?)
}

/// An admin of the membership's union ends it (say, the worker left the trade): the
/// worker is told, eligibility follows at once (it reads active memberships), and
/// vouchers already held stay valid. Call inside a write transaction.
pub fn end(
    conn: &mut DbConnection,
    scope: &AdminScope,
    id: &MembershipId,
    reason: &str,
    now: NaiveDateTime,
) -> Refused<Membership> {
    let membership = ms::find_membership(conn, id)?.ok_or(ScopeError::NotFound)?;
    let union = org::find_union(conn, &membership.union_id)?.ok_or(ScopeError::NotFound)?;
    if !scope.covers(&union.path) {
        return Err(ScopeError::NotFound.into());
    }
    if !ms::end(conn, id, reason, now)? {
        return Err(MembershipRefusal::Ended);
    }
    let n = NewNotification {
        user: &membership.user_id,
        kind: NotificationKind::MembershipEnded,
        title: "会籍已结束".to_owned(),
        body: format!("您在{}的会籍已结束，原因：{reason}", union.name),
        voucher: None,
        campaign: None,
    };
    notifications::notify(conn, n, now)?;
    let data = json!({"membership_id": id, "reason": reason});
    let entry = Audit::new(
        Some(scope.user().as_str()),
        "membership.ended",
        "user",
        membership.user_id.as_str(),
    )
    .union(&membership.union_id)
    .data(data);
    audit::record(conn, entry, now)?;
    Ok(membership)
}
