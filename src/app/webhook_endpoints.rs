//! A partner manages its webhook endpoints; each change is audited in its transaction.

use chrono::NaiveDateTime;
use diesel::QueryResult;
use serde_json::json;

use super::changes::audited;
use crate::db::DbConnection;
use crate::domain::ids::{EndpointId, OutboxId, PartnerId};
use crate::domain::webhooks::{self, Endpoint};

fn audit(
    conn: &mut DbConnection,
    partner: &PartnerId,
    action: &str,
    id: &EndpointId,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let subject = ("webhook_endpoint", id.as_str());
    audited(
        conn,
        Some(partner.as_str()),
        action,
        subject,
        None,
        json!({"partner_id": partner}),
        now,
    )
}

/// A new endpoint (its URL already checked by the caller). Call inside a write transaction.
pub fn create(
    conn: &mut DbConnection,
    partner: &PartnerId,
    url: &str,
    events: &[String],
    now: NaiveDateTime,
) -> QueryResult<Endpoint> {
    let endpoint = webhooks::create(conn, partner, url, events, now)?;
    audit(conn, partner, "webhook_endpoint.created", &endpoint.id, now)?;
    Ok(endpoint)
}

/// Deletes the partner's own endpoint; false when it has no such live endpoint.
/// Call inside a write transaction.
pub fn delete(
    conn: &mut DbConnection,
    partner: &PartnerId,
    id: &EndpointId,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    if webhooks::own(conn, partner, id)?.is_none() {
        return Ok(false);
    }
    webhooks::delete(conn, id, now)?;
    audit(conn, partner, "webhook_endpoint.deleted", id, now)?;
    Ok(true)
}

/// Queues an event again for the partner's own endpoint; false when either is unknown.
/// Call inside a write transaction.
pub fn redeliver(
    conn: &mut DbConnection,
    partner: &PartnerId,
    id: &EndpointId,
    event: &OutboxId,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    if webhooks::own(conn, partner, id)?.is_none() || !webhooks::redeliver(conn, id, event, now)? {
        return Ok(false);
    }
    audit(conn, partner, "webhook_endpoint.redelivery_requested", id, now)?;
    Ok(true)
}
