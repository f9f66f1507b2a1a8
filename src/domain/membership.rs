//! Union membership: applications (join or transfer), decisions, and the memberships
//! they create. The unique indexes (one active membership, one pending application per
//! worker) decide every race; the checks here only give the friendly answer first.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{membership_applications as apps, memberships};
use crate::db::{is_unique_violation, DbConnection};
use crate::domain::ids::{ApplicationId, MembershipId, StationId, UnionId, UserId};
use crate::domain::notifications::{self, NewNotification, NotificationKind};
use crate::domain::org;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = memberships)]
pub struct Membership {
    pub id: MembershipId,
    pub user_id: UserId,
    pub union_id: UnionId,
    pub member_no: String,
    pub since: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = apps)]
pub struct Application {
    pub id: ApplicationId,
    pub kind: ApplicationKind,
    pub user_id: UserId,
    pub union_id: UnionId,
    pub from_membership_id: Option<MembershipId>,
    pub status: ApplicationStatus,
    pub submitted_by: UserId,
    pub station_id: Option<StationId>,
    pub reason: Option<String>,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<NaiveDateTime>,
    pub membership_id: Option<MembershipId>,
    pub created_at: NaiveDateTime,
}

crate::text_enum!(
    /// `membership_applications.kind`: joining a union, or moving one's membership.
    pub enum ApplicationKind {
        Join => "join",
        Transfer => "transfer",
    }
);

crate::text_enum!(
    /// `membership_applications.status`: decided once, `pending → approved | rejected`.
    pub enum ApplicationStatus {
        Pending => "pending",
        Approved => "approved",
        Rejected => "rejected",
    }
);

#[derive(Debug, thiserror::Error)]
pub enum MembershipError {
    #[error("already a member")]
    AlreadyMember,
    #[error("an application is pending")]
    ApplicationPending,
    #[error("not a member")]
    NotAMember,
    #[error("the application is not pending")]
    NotPending,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

pub fn active(conn: &mut DbConnection, user: &UserId) -> QueryResult<Option<Membership>> {
    memberships::table
        .filter(memberships::user_id.eq(user))
        .filter(memberships::ended_at.is_null())
        .select(Membership::as_select())
        .first(conn)
        .optional()
}

pub fn pending(conn: &mut DbConnection, user: &UserId) -> QueryResult<Option<Application>> {
    apps::table
        .filter(apps::user_id.eq(user))
        .filter(apps::status.eq(ApplicationStatus::Pending))
        .select(Application::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut DbConnection, id: &ApplicationId) -> QueryResult<Option<Application>> {
    apps::table
        .find(id)
        .select(Application::as_select())
        .first(conn)
        .optional()
}

pub struct Submission<'a> {
    pub kind: ApplicationKind,
    pub user: &'a UserId,
    pub union: &'a UnionId,
    pub submitted_by: &'a UserId,
    pub station: Option<&'a StationId>,
}

/// Files an application. A join needs no active membership; a transfer needs one in
/// another union. Call inside a write transaction.
pub fn submit(
    conn: &mut DbConnection,
    s: Submission<'_>,
    now: NaiveDateTime,
) -> Result<Application, MembershipError> {
    let current = active(conn, s.user)?;
    let from = match (s.kind, current) {
        (ApplicationKind::Join, Some(_)) => return Err(MembershipError::AlreadyMember),
        (ApplicationKind::Join, None) => None,
        (ApplicationKind::Transfer, None) => return Err(MembershipError::NotAMember),
        (ApplicationKind::Transfer, Some(m)) if &m.union_id == s.union => {
            return Err(MembershipError::AlreadyMember)
        }
        (ApplicationKind::Transfer, Some(m)) => Some(m.id),
    };
    let id = ApplicationId::generate();
    let inserted = diesel::insert_into(apps::table)
        .values((
            apps::id.eq(&id),
            apps::kind.eq(s.kind),
            apps::user_id.eq(s.user),
            apps::union_id.eq(s.union),
            apps::from_membership_id.eq(from.as_ref()),
            apps::status.eq(ApplicationStatus::Pending),
            apps::submitted_by.eq(s.submitted_by),
            apps::station_id.eq(s.station),
            apps::created_at.eq(now),
        ))
        .execute(conn);
    match inserted {
        Err(e) if is_unique_violation(&e) => return Err(MembershipError::ApplicationPending),
        other => other?,
    };
    find(conn, &id)?.ok_or(MembershipError::Database(diesel::result::Error::NotFound))
}

/// pending → approved (or rejected), fenced by the status so two admins can't both decide.
fn decide(
    conn: &mut DbConnection,
    id: &ApplicationId,
    status: ApplicationStatus,
    by: &UserId,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), MembershipError> {
    let changed = diesel::update(
        apps::table
            .find(id)
            .filter(apps::status.eq(ApplicationStatus::Pending)),
    )
    .set((
        apps::status.eq(status),
        apps::decided_by.eq(by),
        apps::decided_at.eq(now),
        apps::reason.eq(reason),
    ))
    .execute(conn)?;
    if changed == 1 {
        Ok(())
    } else {
        Err(MembershipError::NotPending)
    }
}

/// Approves: a join creates a membership with a new member number; a transfer ends the
/// old membership and opens one in the target union, keeping the original `since`.
/// Call inside a write transaction.
pub fn approve(
    conn: &mut DbConnection,
    application: &Application,
    by: &UserId,
    now: NaiveDateTime,
) -> Result<Membership, MembershipError> {
    decide(conn, &application.id, ApplicationStatus::Approved, by, None, now)?;
    let mut since = now;
    if let Some(from) = &application.from_membership_id {
        let old: Membership = memberships::table
            .find(from)
            .select(Membership::as_select())
            .first(conn)?;
        let ended = diesel::update(
            memberships::table
                .find(from)
                .filter(memberships::ended_at.is_null()),
        )
        .set((
            memberships::ended_at.eq(now),
            memberships::end_reason.eq("transferred"),
        ))
        .execute(conn)?;
        if ended != 1 {
            return Err(MembershipError::NotAMember);
        }
        since = old.since;
    }
    let membership = open(conn, &application.user_id, &application.union_id, since, now)?;
    diesel::update(apps::table.find(&application.id))
        .set(apps::membership_id.eq(&membership.id))
        .execute(conn)?;
    let union_name = union_name(conn, &membership.union_id)?;
    let n = NewNotification {
        user: &membership.user_id,
        kind: NotificationKind::MembershipApproved,
        title: "入会申请已通过".to_owned(),
        body: format!("您已成为{union_name}会员，会员号 {}。", membership.member_no),
        voucher: None,
        campaign: None,
    };
    notifications::notify(conn, n, now)?;
    Ok(membership)
}

/// A new membership with the union's next member number; the unique index on active
/// memberships turns a second one into `AlreadyMember`.
pub fn open(
    conn: &mut DbConnection,
    user: &UserId,
    union: &UnionId,
    since: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<Membership, MembershipError> {
    let membership = Membership {
        id: MembershipId::generate(),
        user_id: user.clone(),
        union_id: union.clone(),
        member_no: org::next_member_no(conn, union)?,
        since,
    };
    let inserted = diesel::insert_into(memberships::table)
        .values((
            memberships::id.eq(&membership.id),
            memberships::user_id.eq(&membership.user_id),
            memberships::union_id.eq(&membership.union_id),
            memberships::member_no.eq(&membership.member_no),
            memberships::since.eq(membership.since),
            memberships::started_at.eq(now),
        ))
        .execute(conn);
    match inserted {
        Err(e) if is_unique_violation(&e) => Err(MembershipError::AlreadyMember),
        other => other.map(|_| membership).map_err(Into::into),
    }
}

/// Ends an active membership (conditional: of two concurrent ends, one wins); false when
/// it had ended already.
pub fn end(
    conn: &mut DbConnection,
    id: &MembershipId,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let ended = diesel::update(
        memberships::table
            .find(id)
            .filter(memberships::ended_at.is_null()),
    )
    .set((memberships::ended_at.eq(now), memberships::end_reason.eq(reason)))
    .execute(conn)?;
    Ok(ended == 1)
}

pub(crate) fn union_name(conn: &mut DbConnection, union: &UnionId) -> QueryResult<String> {
    crate::db::schema::unions::table
        .find(union)
        .select(crate::db::schema::unions::name)
        .first(conn)
}

pub fn reject(
    conn: &mut DbConnection,
    application: &ApplicationId,
    by: &UserId,
    reason: &str,
    now: NaiveDateTime,
) -> Result<(), MembershipError> {
    decide(
        conn,
        application,
        ApplicationStatus::Rejected,
        by,
        Some(reason),
        now,
    )?;
    let app: Application = apps::table
        .find(application)
        .select(Application::as_select())
        .first(conn)?;
    let union_name = union_name(conn, &app.union_id)?;
    let n = NewNotification {
        user: &app.user_id,
        kind: NotificationKind::MembershipRejected,
        title: "入会申请未通过".to_owned(),
        body: format!("{union_name}未通过您的申请，原因：{reason}"),
        voucher: None,
        campaign: None,
    };
    notifications::notify(conn, n, now)?;
    Ok(())
}

pub fn find_membership(conn: &mut DbConnection, id: &MembershipId) -> QueryResult<Option<Membership>> {
    memberships::table
        .find(id)
        .select(Membership::as_select())
        .first(conn)
        .optional()
}
