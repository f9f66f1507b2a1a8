//! What staff set about a worker.

use chrono::NaiveDateTime;
use serde_json::json;

use crate::auth::scope::{AdminScope, ScopeError};
use crate::db::DbConnection;
use crate::domain::audit;
use crate::domain::ids::UserId;
use crate::domain::workers::{self, Member, WorkerFlags};

/// A member of a union in the admin's scope, or `NotFound` (also for members elsewhere).
pub fn member_in_scope(
    conn: &mut DbConnection,
    scope: &AdminScope,
    id: &UserId,
) -> Result<Member, ScopeError> {
    workers::members(conn, scope.path_prefix(), Some(id), None, 1)?
        .pop()
        .ok_or(ScopeError::NotFound)
}

/// Sets the flags only staff may set (hardship register, verified occupation) on a
/// member of the admin's subtree, with an audit entry of who and when.
/// Call inside a write transaction.
pub fn set_flags(
    conn: &mut DbConnection,
    scope: &AdminScope,
    id: &UserId,
    flags: &WorkerFlags,
    now: NaiveDateTime,
) -> Result<Member, ScopeError> {
    member_in_scope(conn, scope, id)?;
    workers::set_flags(conn, id, flags, now)?;
    let detail = json!({
        "hardship_archived": flags.hardship_archived,
        "occupation_verified": flags.occupation_verified,
    });
    audit::record(conn, scope.user(), "worker.flags", id.as_str(), &detail, now)?;
    member_in_scope(conn, scope, id)
}
