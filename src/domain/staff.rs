//! Staff accounts (counters and union admins) as their union office manages them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{staff_stations, unions, users};
use crate::db::DbConnection;
use crate::domain::ids::{StationId, UnionId, UserId};
use crate::domain::phone::Phone;
use crate::domain::profile::Role;

/// A staff account with its union's path (for scope checks).
#[derive(Debug, Clone, Queryable)]
pub struct StaffRow {
    pub id: UserId,
    pub name: String,
    pub phone: Phone,
    pub role: Role,
    pub union_id: UnionId,
    pub union_path: String,
    pub disabled_at: Option<NaiveDateTime>,
}

const STAFF_ROLES: [Role; 2] = [Role::Counter, Role::UnionAdmin];

type StaffSelect = (
    users::id,
    users::name,
    users::phone,
    users::role,
    unions::id,
    unions::path,
    users::disabled_at,
);

const STAFF_SELECT: StaffSelect = (
    users::id,
    users::name,
    users::phone,
    users::role,
    unions::id,
    unions::path,
    users::disabled_at,
);

/// Staff of unions under `union_path` (everyone with `None`), by id after `after`; `only`
/// picks one.
pub fn list(
    conn: &mut DbConnection,
    union_path: Option<&str>,
    only: Option<&UserId>,
    after: Option<&UserId>,
    limit: i64,
) -> QueryResult<Vec<StaffRow>> {
    let mut q = users::table
        .inner_join(unions::table.on(users::union_id.eq(unions::id.nullable())))
        .filter(users::role.eq_any(STAFF_ROLES))
        .select(STAFF_SELECT)
        .order(users::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(prefix) = union_path {
        q = q.filter(unions::path.like(format!("{prefix}%")));
    }
    if let Some(id) = only {
        q = q.filter(users::id.eq(id));
    }
    if let Some(after) = after {
        q = q.filter(users::id.gt(after));
    }
    q.load(conn)
}

/// One staff account (a counter or union admin) by id; `None` for workers and unknown ids.
pub fn find(conn: &mut DbConnection, id: &UserId) -> QueryResult<Option<StaffRow>> {
    Ok(list(conn, None, Some(id), None, 1)?.pop())
}

/// The stations each of `staff` is bound to, as `(user, station)` pairs.
pub fn stations_of(conn: &mut DbConnection, staff: &[UserId]) -> QueryResult<Vec<(UserId, StationId)>> {
    staff_stations::table
        .filter(staff_stations::user_id.eq_any(staff))
        .order((staff_stations::user_id, staff_stations::station_id))
        .select((staff_stations::user_id, staff_stations::station_id))
        .load(conn)
}

/// Sets the account's display name.
pub fn rename(conn: &mut DbConnection, id: &UserId, name: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((users::name.eq(name), users::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

/// Replaces the counter's stations with `stations`.
pub fn rebind(conn: &mut DbConnection, id: &UserId, stations: &[StationId]) -> QueryResult<()> {
    diesel::delete(staff_stations::table.filter(staff_stations::user_id.eq(id))).execute(conn)?;
    crate::domain::org::bind_stations(conn, id, stations)
}

/// Disables (`Some(now)`) or enables (`None`) the account; true when this changed it.
pub fn set_disabled(
    conn: &mut DbConnection,
    id: &UserId,
    disabled_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    crate::auth::session_cache::forget_user(id);
    let target = users::table.find(id);
    let changed = match disabled_at {
        Some(at) => diesel::update(target.filter(users::disabled_at.is_null()))
            .set((users::disabled_at.eq(at), users::updated_at.eq(now)))
            .execute(conn)?,
        None => diesel::update(target.filter(users::disabled_at.is_not_null()))
            .set((
                users::disabled_at.eq(None::<NaiveDateTime>),
                users::updated_at.eq(now),
            ))
            .execute(conn)?,
    };
    Ok(changed == 1)
}

/// Stores a new password hash; `change_required` forces a change at the next sign-in.
pub fn set_password(
    conn: &mut DbConnection,
    id: &UserId,
    hash: &str,
    change_required: bool,
    now: NaiveDateTime,
) -> QueryResult<()> {
    crate::auth::session_cache::forget_user(id);
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(hash),
            users::password_change_required.eq(change_required),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}
