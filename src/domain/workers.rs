//! Workers as union staff find them: current members of unions in a subtree, and the
//! flags only staff may set.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{memberships, unions, users};
use crate::db::DbConnection;
use crate::domain::ids::{MembershipId, UnionId, UserId};
use crate::domain::phone::Phone;
use crate::domain::profile::Occupation;

/// A member as the admin lists read it (views mask name and phone).
#[derive(Debug, Clone, Queryable)]
pub struct Member {
    pub id: UserId,
    pub name: String,
    pub phone: Phone,
    pub occupation: Option<Occupation>,
    pub region_code: Option<String>,
    pub occupation_verified: bool,
    pub hardship_archived: bool,
    pub union_id: UnionId,
    pub member_no: String,
    pub member_since: NaiveDateTime,
    pub membership_id: MembershipId,
}

/// Which members to read; every field narrows (exact matches).
#[derive(Debug, Default, Clone)]
pub struct MemberFilter<'a> {
    /// Unions under this path (every union with `None`).
    pub union_path: Option<&'a str>,
    pub only: Option<&'a UserId>,
    pub phone: Option<&'a Phone>,
    pub member_no: Option<&'a str>,
    pub after: Option<&'a UserId>,
}

/// Current members matching `f`, by id, at most `limit`.
pub fn members(conn: &mut DbConnection, f: &MemberFilter<'_>, limit: i64) -> QueryResult<Vec<Member>> {
    let mut q = users::table
        .inner_join(
            memberships::table.on(memberships::user_id
                .eq(users::id)
                .and(memberships::ended_at.is_null())),
        )
        .inner_join(unions::table.on(unions::id.eq(memberships::union_id)))
        .select((
            users::id,
            users::name,
            users::phone,
            users::occupation,
            users::region_code,
            users::occupation_verified,
            users::hardship_archived,
            memberships::union_id,
            memberships::member_no,
            memberships::since,
            memberships::id,
        ))
        .order(users::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(prefix) = f.union_path {
        q = q.filter(unions::path.like(format!("{prefix}%")));
    }
    if let Some(id) = f.only {
        q = q.filter(users::id.eq(id));
    }
    if let Some(phone) = f.phone {
        q = q.filter(users::phone.eq(phone));
    }
    if let Some(no) = f.member_no {
        q = q.filter(memberships::member_no.eq(no));
    }
    if let Some(after) = f.after {
        q = q.filter(users::id.gt(after));
    }
    q.load(conn)
}

/// The flags only staff set; `None` leaves one alone.
#[derive(Debug, Default, Clone, AsChangeset, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = users)]
#[serde(deny_unknown_fields)]
pub struct WorkerFlags {
    #[serde(default)]
    pub hardship_archived: Option<bool>,
    #[serde(default)]
    pub occupation_verified: Option<bool>,
}

pub fn set_flags(
    conn: &mut DbConnection,
    id: &UserId,
    flags: &WorkerFlags,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((flags, users::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}
