//! A partner's webhook endpoints (`webhooks:manage`): register, list, delete, the
//! delivery log, and redelivery.

use crate::app::webhook_endpoints as endpoints;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::auth::partner::PartnerPrincipal;
use crate::db;
use crate::domain::ids::{AttemptId, EndpointId, OutboxId};
use crate::domain::invalid::Invalid;
use crate::domain::partners::Scope;
use crate::domain::webhooks::{self, Endpoint, EVENTS};
use crate::domain::{now, utc};
use crate::error::{ApiError, ErrorCode};
use crate::http::json::{Json, Query};
use crate::http::pagination;
use crate::outbox::ssrf;
use crate::state::AppState;

fn view(e: &Endpoint) -> serde_json::Value {
    json!({"id": e.id, "url": e.url, "events": e.event_list(), "created_at": utc(e.created_at)})
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    url: String,
    events: Vec<String>,
}

/// 201 with the signing secret (`whsec_…`, shown once; derived, never stored).
pub async fn create(
    state: web::Data<AppState>,
    partner: PartnerPrincipal,
    body: Json<NewEndpoint>,
) -> Result<HttpResponse, ApiError> {
    partner.require(Scope::WebhooksManage)?;
    let body = body.into_inner();
    if body.url.len() > 2000 {
        return Err(Invalid::new("url", "网址过长").into());
    }
    if body.events.is_empty() {
        return Err(Invalid::new("events", "至少订阅一种事件").into());
    }
    if let Some(i) = body.events.iter().position(|e| !EVENTS.contains(&e.as_str())) {
        return Err(Invalid::new(format!("events[{i}]"), format!("可选事件：{}", EVENTS.join("、"))).into());
    }
    // Resolved and checked now, and again before every delivery (DNS can change).
    ssrf::check(&body.url, state.webhook_allow_private)
        .await
        .map_err(|why| Invalid::new("url", why))?;
    let endpoint = db::transaction(&state.pool, move |conn| {
        Ok::<_, ApiError>(endpoints::create(
            conn,
            &partner.partner_id,
            &body.url,
            &body.events,
            now(),
        )?)
    })
    .await?;
    let mut v = view(&endpoint);
    v["secret"] = json!(webhooks::secret(&state.voucher_keys, &endpoint.id));
    Ok(HttpResponse::Created().json(v))
}

/// The partner's live endpoints, oldest first.
pub async fn list(
    state: web::Data<AppState>,
    partner: PartnerPrincipal,
    q: Query<pagination::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    partner.require(Scope::WebhooksManage)?;
    let rows = db::run(&state.pool, move |conn| {
        Ok::<_, ApiError>(webhooks::of_partner(conn, &partner.partner_id)?)
    })
    .await?;
    let items: Vec<_> = rows.iter().map(view).collect();
    Ok(HttpResponse::Ok().json(pagination::page_in_memory(
        items,
        &q,
        false,
        pagination::json_key("id"),
        pagination::is_uuid,
    )?))
}

pub async fn delete(
    state: web::Data<AppState>,
    partner: PartnerPrincipal,
    id: web::Path<EndpointId>,
) -> Result<HttpResponse, ApiError> {
    partner.require(Scope::WebhooksManage)?;
    let id = id.into_inner();
    let deleted = db::transaction(&state.pool, move |conn| {
        Ok::<_, ApiError>(endpoints::delete(conn, &partner.partner_id, &id, now())?)
    })
    .await?;
    if !deleted {
        return Err(ErrorCode::NotFound.into());
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The delivery log: every attempt, newest first, paged by the attempt's id.
pub async fn deliveries(
    state: web::Data<AppState>,
    partner: PartnerPrincipal,
    id: web::Path<EndpointId>,
    q: Query<pagination::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    partner.require(Scope::WebhooksManage)?;
    let id = id.into_inner();
    let limit = pagination::limit(q.limit)?;
    let before = pagination::cursor(q.cursor.as_deref(), AttemptId::parse)?;
    let items = db::run(&state.pool, move |conn| {
        webhooks::own(conn, &partner.partner_id, &id)?.ok_or(ErrorCode::NotFound)?;
        Ok::<_, ApiError>(webhooks::deliveries(conn, &id, before.as_ref(), limit + 1)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(pagination::page(items, limit, pagination::json_key("attempt_id"))))
}

/// Sends an event again, under its original `webhook-id`.
pub async fn redeliver(
    state: web::Data<AppState>,
    partner: PartnerPrincipal,
    path: web::Path<(EndpointId, OutboxId)>,
) -> Result<HttpResponse, ApiError> {
    partner.require(Scope::WebhooksManage)?;
    let (id, event) = path.into_inner();
    let answer = json!({"event_id": event});
    let queued = db::transaction(&state.pool, move |conn| {
        Ok::<_, ApiError>(endpoints::redeliver(
            conn,
            &partner.partner_id,
            &id,
            &event,
            now(),
        )?)
    })
    .await?;
    if !queued {
        return Err(ErrorCode::NotFound.into());
    }
    Ok(HttpResponse::Accepted().json(answer))
}
