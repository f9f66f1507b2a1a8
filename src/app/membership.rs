//! Joining and transferring (入会/转会): a worker's own application, an admin's decision,
//! and a counter's on-site join.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::auth::scope::{AdminScope, CounterScope, ScopeError};
use crate::db::DbConnection;
use crate::domain::ids::{ApplicationId, StationId, UnionId, UserId};
use crate::domain::invalid::Invalid;
use crate::domain::join_codes;
use crate::domain::membership::{self as ms, Application, ApplicationKind, MembershipError, Submission};
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
    Ok(ms::submit(conn, s, now)?)
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
    scope.application(conn, id, kind)?;
    ms::reject(conn, id, scope.user(), reason, now)?;
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
    if union.onsite_auto_approve {
        ms::approve(conn, &app, &scope.user, now)?;
    }
    Ok(ms::find(conn, &app.id)?.ok_or(ScopeError::NotFound)?)
}
