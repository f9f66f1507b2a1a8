//! A worker's grant: permission for one partner to read them (eligibility, wallet).
//! Revoking takes effect at once: every partner read checks for a live grant.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::is_unique_violation;
use crate::db::schema::{partner_grants as grants, partners, users};
use crate::db::DbConnection;
use crate::domain::ids::{GrantId, PartnerId, UserId};

/// A live grant with its partner's name.
#[derive(Debug, Clone, Queryable)]
pub struct Grant {
    pub id: GrantId,
    pub partner_id: PartnerId,
    pub partner_name: String,
    pub created_at: NaiveDateTime,
}

/// Grants `partner` (an enabled one); an existing live grant is returned as it is.
pub fn grant(
    conn: &mut DbConnection,
    user: &UserId,
    partner: &PartnerId,
    now: NaiveDateTime,
) -> QueryResult<(Grant, bool)> {
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(grants::table)
            .values((
                grants::id.eq(GrantId::generate()),
                grants::user_id.eq(user),
                grants::partner_id.eq(partner),
                grants::created_at.eq(now),
            ))
            .execute(conn)
    });
    let created = match inserted {
        Ok(_) => true,
        Err(e) if is_unique_violation(&e) => false,
        Err(e) => return Err(e),
    };
    let live = of_user(conn, user)?
        .into_iter()
        .find(|g| &g.partner_id == partner)
        .ok_or(diesel::result::Error::NotFound)?;
    Ok((live, created))
}

/// The worker's live grants, newest first.
pub fn of_user(conn: &mut DbConnection, user: &UserId) -> QueryResult<Vec<Grant>> {
    grants::table
        .inner_join(partners::table)
        .filter(grants::user_id.eq(user))
        .filter(grants::revoked_at.is_null())
        .order(grants::id.desc())
        .select((grants::id, grants::partner_id, partners::name, grants::created_at))
        .load(conn)
}

/// Revokes one of the worker's own live grants; false when there is none by that id.
pub fn revoke(
    conn: &mut DbConnection,
    user: &UserId,
    id: &GrantId,
    now: NaiveDateTime,
) -> QueryResult<Option<PartnerId>> {
    diesel::update(
        grants::table
            .find(id)
            .filter(grants::user_id.eq(user))
            .filter(grants::revoked_at.is_null()),
    )
    .set(grants::revoked_at.eq(now))
    .returning(grants::partner_id)
    .get_result(conn)
    .optional()
}

/// Whether `worker` has a live grant for `partner`.
pub fn granted(conn: &mut DbConnection, partner: &PartnerId, worker: &UserId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        grants::table
            .filter(grants::partner_id.eq(partner))
            .filter(grants::user_id.eq(worker))
            .filter(grants::revoked_at.is_null()),
    ))
    .get_result(conn)
}

/// Workers who granted `partner`: (worker, name, granted at), newest first, after `before`.
pub fn workers_of(
    conn: &mut DbConnection,
    partner: &PartnerId,
    before: Option<&GrantId>,
    limit: i64,
) -> QueryResult<Vec<(GrantId, UserId, String, NaiveDateTime)>> {
    let mut q = grants::table
        .inner_join(users::table)
        .filter(grants::partner_id.eq(partner))
        .filter(grants::revoked_at.is_null())
        .order(grants::id.desc())
        .limit(limit)
        .select((grants::id, users::id, users::name, grants::created_at))
        .into_boxed();
    if let Some(b) = before {
        q = q.filter(grants::id.lt(b));
    }
    q.load(conn)
}
