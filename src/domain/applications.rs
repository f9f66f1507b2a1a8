//! Membership applications as lists and checks read them: a worker's own, those of a
//! subtree for its admins, and who applied.

use diesel::prelude::*;

use crate::db::schema::{membership_applications as apps, unions, users};
use crate::db::DbConnection;
use crate::domain::ids::{ApplicationId, UserId};
use crate::domain::membership::{Application, ApplicationKind, ApplicationStatus};
use crate::domain::phone::Phone;
use crate::domain::profile::Occupation;

/// A worker's own applications, newest first: decisions and their reasons included.
pub fn of_user(
    conn: &mut DbConnection,
    user: &UserId,
    before: Option<&ApplicationId>,
    limit: i64,
) -> QueryResult<Vec<Application>> {
    let mut query = apps::table
        .filter(apps::user_id.eq(user))
        .select(Application::as_select())
        .order(apps::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(apps::id.lt(before));
    }
    query.load(conn)
}

/// Who applied: name, phone and occupation (views mask the first two for staff).
pub fn applicant(
    conn: &mut DbConnection,
    app: &Application,
) -> QueryResult<(String, Phone, Option<Occupation>)> {
    users::table
        .find(&app.user_id)
        .select((users::name, users::phone, users::occupation))
        .first(conn)
}

/// Applications of one kind to unions under `union_path` (all with `None`), by id.
pub fn list_for_unions(
    conn: &mut DbConnection,
    union_path: Option<&str>,
    kind: ApplicationKind,
    status: Option<ApplicationStatus>,
    after: Option<&ApplicationId>,
    limit: i64,
) -> QueryResult<Vec<Application>> {
    let mut q = apps::table
        .inner_join(unions::table)
        .filter(apps::kind.eq(kind))
        .select(Application::as_select())
        .order(apps::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(prefix) = union_path {
        q = q.filter(unions::path.like(format!("{prefix}%")));
    }
    if let Some(status) = status {
        q = q.filter(apps::status.eq(status));
    }
    if let Some(after) = after {
        q = q.filter(apps::id.gt(after));
    }
    q.load(conn)
}

/// The application of `kind` with the path of the union it targets (for scope checks).
pub fn find_with_union_path(
    conn: &mut DbConnection,
    id: &ApplicationId,
    kind: ApplicationKind,
) -> QueryResult<Option<(Application, String)>> {
    apps::table
        .inner_join(unions::table)
        .filter(apps::id.eq(id))
        .filter(apps::kind.eq(kind))
        .select((Application::as_select(), unions::path))
        .first(conn)
        .optional()
}
