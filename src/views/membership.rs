//! Membership applications and a worker's membership, as staff and the worker see them.

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use serde::Serialize;

use crate::db::DbConnection;
use crate::domain::ids::{ApplicationId, StationId, UnionId, UserId};
use crate::domain::membership::{self as ms, Application, ApplicationKind, ApplicationStatus, Membership};
use crate::domain::phone::mask_name;
use crate::domain::profile::Occupation;
use crate::domain::utc;

/// The membership an approved application created.
#[derive(Debug, Serialize)]
pub struct MembershipSummary {
    union_id: UnionId,
    member_no: String,
    since: DateTime<Utc>,
}

impl From<Membership> for MembershipSummary {
    fn from(m: Membership) -> Self {
        Self {
            union_id: m.union_id,
            member_no: m.member_no,
            since: utc(m.since),
        }
    }
}

/// An application as staff and its applicant see it: personal data masked.
#[derive(Debug, Serialize)]
pub struct ApplicationView {
    pub id: ApplicationId,
    kind: ApplicationKind,
    status: ApplicationStatus,
    union_id: UnionId,
    applicant: Applicant,
    /// `app` when the worker filed it, `counter` when a counter did on site.
    submitted_via: &'static str,
    station_id: Option<StationId>,
    reason: Option<String>,
    decided_by: Option<UserId>,
    decided_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    membership: Option<MembershipSummary>,
}

#[derive(Debug, Serialize)]
struct Applicant {
    id: UserId,
    name_masked: String,
    phone_masked: String,
    occupation: Option<Occupation>,
}

/// An application with its applicant (masked) and the membership it created, if any.
pub fn application(conn: &mut DbConnection, app: Application) -> QueryResult<ApplicationView> {
    let (name, phone, occupation) = crate::domain::applications::applicant(conn, &app)?;
    let membership = match &app.membership_id {
        Some(id) => ms::find_membership(conn, id)?.map(MembershipSummary::from),
        None => None,
    };
    Ok(ApplicationView {
        submitted_via: if app.submitted_by == app.user_id {
            "app"
        } else {
            "counter"
        },
        applicant: Applicant {
            id: app.user_id,
            name_masked: mask_name(&name),
            phone_masked: phone.masked(),
            occupation,
        },
        id: app.id,
        kind: app.kind,
        status: app.status,
        union_id: app.union_id,
        station_id: app.station_id,
        reason: app.reason,
        decided_by: app.decided_by,
        decided_at: app.decided_at.map(utc),
        created_at: utc(app.created_at),
        membership,
    })
}

/// `application` for each of a page of applications.
pub fn applications(conn: &mut DbConnection, rows: Vec<Application>) -> QueryResult<Vec<ApplicationView>> {
    rows.into_iter().map(|a| application(conn, a)).collect()
}

/// The worker's own standing: `member`, `pending` or `none`.
#[derive(Debug, Serialize)]
pub struct MembershipView {
    status: &'static str,
    union_id: Option<UnionId>,
    member_no: Option<String>,
    since: Option<DateTime<Utc>>,
    /// A pending join, or a pending transfer of a member.
    pending_application_id: Option<ApplicationId>,
}

/// A worker's standing: an active membership, else a pending application, else none.
pub fn standing(conn: &mut DbConnection, user: &UserId) -> QueryResult<MembershipView> {
    let active = ms::active(conn, user)?;
    let pending = ms::pending(conn, user)?;
    let pending_application_id = pending.as_ref().map(|a| a.id.clone());
    Ok(match (active, pending) {
        (Some(m), _) => MembershipView {
            status: "member",
            union_id: Some(m.union_id),
            member_no: Some(m.member_no),
            since: Some(utc(m.since)),
            pending_application_id,
        },
        (None, Some(app)) => MembershipView {
            status: "pending",
            union_id: Some(app.union_id),
            member_no: None,
            since: None,
            pending_application_id,
        },
        (None, None) => MembershipView {
            status: "none",
            union_id: None,
            member_no: None,
            since: None,
            pending_application_id,
        },
    })
}
