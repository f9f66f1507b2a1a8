//! Admins' view of the workers whose membership lies in their subtree.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::pagination;
use crate::auth::scope::{AdminScope, ADMIN_ROLES};
use crate::auth::Principal;
use crate::db::schema::{memberships, unions, users};
use crate::db::{self, DbConnection};
use crate::domain::ids::{UnionId, UserId};
use crate::domain::phone::{mask_name, Phone};
use crate::domain::{audit, now, utc};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// A worker as staff see them: masked, and only what their work needs.
#[derive(Debug, Serialize)]
pub struct WorkerView {
    id: UserId,
    name_masked: String,
    phone_masked: String,
    occupation: Option<String>,
    region_code: Option<String>,
    occupation_verified: bool,
    hardship_archived: bool,
    union_id: UnionId,
    member_no: String,
    member_since: DateTime<Utc>,
}

type WorkerRow = (
    UserId,
    String,
    Phone,
    Option<String>,
    Option<String>,
    bool,
    bool,
    UnionId,
    String,
    chrono::NaiveDateTime,
);

fn to_view(r: WorkerRow) -> WorkerView {
    WorkerView {
        id: r.0,
        name_masked: mask_name(&r.1),
        phone_masked: r.2.masked(),
        occupation: r.3,
        region_code: r.4,
        occupation_verified: r.5,
        hardship_archived: r.6,
        union_id: r.7,
        member_no: r.8,
        member_since: utc(r.9),
    }
}

macro_rules! worker_query {
    ($scope:expr) => {{
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
            ))
            .into_boxed();
        if let Some(prefix) = $scope.path_prefix() {
            q = q.filter(unions::path.like(format!("{prefix}%")));
        }
        q
    }};
}

fn find_in_scope(conn: &mut DbConnection, scope: &AdminScope, id: &UserId) -> Result<WorkerView, ApiError> {
    let row: Option<WorkerRow> = worker_query!(scope)
        .filter(users::id.eq(id))
        .first(conn)
        .optional()?;
    row.map(to_view).ok_or_else(|| ErrorCode::NotFound.into())
}

pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<pagination::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require(ADMIN_ROLES)?;
    let limit = pagination::limit(query.limit)?;
    let after = pagination::cursor(query.cursor.as_deref(), UserId::parse)?;
    let rows = db::run(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        let mut q = worker_query!(scope).order(users::id.asc()).limit(limit + 1);
        if let Some(after) = after {
            q = q.filter(users::id.gt(after));
        }
        let rows: Vec<WorkerRow> = q.load(conn)?;
        Ok(rows.into_iter().map(to_view).collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(pagination::page(rows, limit, |w: &WorkerView| w.id.to_string())))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateWorker {
    #[serde(default)]
    hardship_archived: Option<bool>,
    #[serde(default)]
    occupation_verified: Option<bool>,
}

/// Sets the flags only staff may set; recorded in the audit trail with who and when.
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<UserId>,
    body: web::Json<UpdateWorker>,
) -> Result<HttpResponse, ApiError> {
    principal.require(ADMIN_ROLES)?;
    let (id, body) = (id.into_inner(), body.into_inner());
    let view = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let scope = AdminScope::load(conn, &principal)?;
            find_in_scope(conn, &scope, &id)?;
            let at = now();
            if let Some(flag) = body.hardship_archived {
                diesel::update(users::table.find(&id))
                    .set((users::hardship_archived.eq(flag), users::updated_at.eq(at)))
                    .execute(conn)?;
            }
            if let Some(flag) = body.occupation_verified {
                diesel::update(users::table.find(&id))
                    .set((users::occupation_verified.eq(flag), users::updated_at.eq(at)))
                    .execute(conn)?;
            }
            let detail = json!({"hardship_archived": body.hardship_archived, "occupation_verified": body.occupation_verified});
            audit::record(conn, scope.user(), "worker.flags", id.as_str(), &detail, at)?;
            find_in_scope(conn, &scope, &id)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
