//! The worker's inbox, and an admin's reminder to a campaign's holders.

use actix_web::{web, HttpResponse};

use crate::app::expiry;
use crate::auth::scope::AdminScope;
use crate::auth::Principal;
use crate::db;
use crate::domain::ids::{CampaignId, NotificationId};
use crate::domain::notifications;
use crate::domain::now;
use crate::error::{ApiError, ErrorCode};
use crate::http::json::Query;
use crate::http::pagination;
use crate::state::AppState;
use crate::views::notifications::NotificationView;

/// Newest first.
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    q: Query<pagination::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let before = pagination::cursor(q.cursor.as_deref(), NotificationId::parse)?;
    let rows = db::run(&state.pool, move |conn| {
        Ok::<_, ApiError>(notifications::page(
            conn,
            &principal.user_id,
            before.as_ref(),
            limit + 1,
        )?)
    })
    .await?;
    let views: Vec<NotificationView> = rows.into_iter().map(NotificationView::from).collect();
    Ok(HttpResponse::Ok().json(pagination::page(views, limit, |v| v.id.to_string())))
}

/// Marks one's own notification read; another worker's id is 404, like a missing one.
pub async fn read(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<NotificationId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let mine = db::transaction(&state.pool, move |conn| {
        Ok::<_, ApiError>(notifications::mark_read(conn, &principal.user_id, &id, now())?)
    })
    .await?;
    if mine {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ErrorCode::NotFound.into())
    }
}

/// `POST /admin/campaigns/{id}/reminders`: 202 `{queued}` (at most one per voucher per 24 h).
pub async fn remind(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<CampaignId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let queued = db::transaction(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        Ok::<_, ApiError>(expiry::admin_remind(conn, &scope, &id, now())?)
    })
    .await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({"queued": queued})))
}
