//! Admins' view of the workers whose membership lies in their subtree.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::app::{membership, workers as app};
use crate::auth::scope::{AdminScope, ADMIN_ROLES};
use crate::auth::Principal;
use crate::db;
use crate::domain::ids::{MembershipId, UserId};
use crate::domain::invalid::Invalid;
use crate::domain::phone::Phone;
use crate::domain::workers::{self, MemberFilter, WorkerFlags};
use crate::domain::{now, utc};
use crate::error::ApiError;
use crate::http::json::{Json, Query};
use crate::http::pagination;
use crate::state::AppState;
use crate::views::accounts::WorkerView;

/// `?phone=` and `?member_no=` find one person by an exact match (contract v1.1).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerQuery {
    limit: Option<i64>,
    cursor: Option<String>,
    phone: Option<String>,
    member_no: Option<String>,
}

/// Members of the admin's subtree, masked; narrowed to exact matches when asked.
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<WorkerQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require(ADMIN_ROLES)?;
    let q = query.into_inner();
    let limit = pagination::limit(q.limit)?;
    let after = pagination::cursor(q.cursor.as_deref(), UserId::parse)?;
    let phone = q
        .phone
        .map(|p| Phone::parse(&p).ok_or_else(|| Invalid::new("phone", "请输入 11 位手机号")))
        .transpose()?;
    let member_no = match q.member_no.map(|m| m.trim().to_owned()) {
        Some(m) if m.is_empty() || m.len() > 40 => {
            return Err(Invalid::new("member_no", "请输入会员号").into())
        }
        other => other,
    };
    let rows = db::run(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        let f = MemberFilter {
            union_path: scope.path_prefix(),
            phone: phone.as_ref(),
            member_no: member_no.as_deref(),
            after: after.as_ref(),
            only: None,
        };
        let members = workers::members(conn, &f, limit + 1)?;
        Ok::<_, ApiError>(members.into_iter().map(WorkerView::from).collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(pagination::page(rows, limit, |w: &WorkerView| w.id.to_string())))
}

/// One worker's full profile, full phone included, to chase a voucher about to lapse;
/// the view itself is audited (`pii.viewed`) before anything is shown.
pub async fn show(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let profile = db::transaction(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        Ok::<_, ApiError>(app::profile(conn, &scope, &id, now())?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(profile))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndBody {
    reason: String,
}

/// Ends a membership with a reason; eligibility follows at once.
pub async fn end_membership(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<MembershipId>,
    body: Json<EndBody>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let reason = crate::app::text(&body.into_inner().reason, "reason", 200)?;
    let view = db::transaction(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        let at = now();
        let m = membership::end(conn, &scope, &id, &reason, at)?;
        Ok::<_, ApiError>(serde_json::json!({
            "id": m.id, "user_id": m.user_id, "union_id": m.union_id, "member_no": m.member_no,
            "since": utc(m.since), "ended_at": utc(at), "end_reason": reason,
        }))
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Sets the flags only staff may set; recorded in the audit trail with who and when.
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<UserId>,
    body: Json<WorkerFlags>,
) -> Result<HttpResponse, ApiError> {
    principal.require(ADMIN_ROLES)?;
    let (id, flags) = (id.into_inner(), body.into_inner());
    let member = db::transaction(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        Ok::<_, ApiError>(app::set_flags(conn, &scope, &id, &flags, now())?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(WorkerView::from(member)))
}
