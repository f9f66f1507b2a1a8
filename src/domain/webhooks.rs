//! Partner webhooks: endpoints a partner manages, the events of the contract fanned out
//! into the outbox in the transaction of the change they report, and the delivery log.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::db::schema::{
    campaigns, outbox, partner_grants, partners, unions, users, vouchers, webhook_attempts, webhook_endpoints,
};
use crate::db::DbConnection;
use crate::domain::ids::{AttemptId, EndpointId, OutboxId, PartnerId, UnionId, UserId, VoucherId};
use crate::domain::phone::mask_name;
use crate::domain::voucher_code::VoucherKeys;
use crate::domain::vouchers::VoucherStatus;
use crate::outbox as queue;

/// The events of the contract.
pub const EVENTS: &[&str] = &[
    "voucher.claimed",
    "voucher.allocated",
    "voucher.redeemed",
    "voucher.reversed",
    "voucher.cancelled",
    "voucher.expired",
    "voucher.revoked",
    "grant.created",
    "grant.revoked",
    "attestation.applied",
];

/// The outbox target of an endpoint.
pub fn target(id: &EndpointId) -> String {
    format!("endpoint:{id}")
}

/// An endpoint's signing secret, `whsec_…` (Standard Webhooks): derived from the server
/// key and the endpoint id whenever it is needed, so no secret sits in the database.
pub fn secret(keys: &VoucherKeys, id: &EndpointId) -> String {
    format!(
        "whsec_{}",
        STANDARD.encode(&keys.derive("webhook-secret:", id.as_str())[..24])
    )
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub struct Endpoint {
    pub id: EndpointId,
    pub partner_id: PartnerId,
    pub url: String,
    pub events: String,
    pub created_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

impl Endpoint {
    pub fn event_list(&self) -> Vec<&str> {
        self.events.split_whitespace().collect()
    }
}

pub fn create(
    conn: &mut DbConnection,
    partner: &PartnerId,
    url: &str,
    events: &[String],
    now: NaiveDateTime,
) -> QueryResult<Endpoint> {
    let id = EndpointId::generate();
    diesel::insert_into(webhook_endpoints::table)
        .values((
            webhook_endpoints::id.eq(&id),
            webhook_endpoints::partner_id.eq(partner),
            webhook_endpoints::url.eq(url),
            webhook_endpoints::events.eq(events.join(" ")),
            webhook_endpoints::created_at.eq(now),
        ))
        .execute(conn)?;
    find(conn, &id)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find(conn: &mut DbConnection, id: &EndpointId) -> QueryResult<Option<Endpoint>> {
    webhook_endpoints::table
        .find(id)
        .select(Endpoint::as_select())
        .first(conn)
        .optional()
}

/// A partner's live endpoint by id (another partner's is `None`, as if absent).
pub fn own(conn: &mut DbConnection, partner: &PartnerId, id: &EndpointId) -> QueryResult<Option<Endpoint>> {
    Ok(find(conn, id)?.filter(|e| &e.partner_id == partner && e.deleted_at.is_none()))
}

pub fn of_partner(conn: &mut DbConnection, partner: &PartnerId) -> QueryResult<Vec<Endpoint>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::partner_id.eq(partner))
        .filter(webhook_endpoints::deleted_at.is_null())
        .order(webhook_endpoints::id.asc())
        .select(Endpoint::as_select())
        .load(conn)
}

pub fn delete(conn: &mut DbConnection, id: &EndpointId, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(webhook_endpoints::table.find(id))
        .set(webhook_endpoints::deleted_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// Queues `event` for every live endpoint in `endpoints` that subscribes to it.
fn fan_out(
    conn: &mut DbConnection,
    endpoints: Vec<Endpoint>,
    event: &str,
    data: &Value,
    now: NaiveDateTime,
) -> QueryResult<()> {
    for e in endpoints.into_iter().filter(|e| e.event_list().contains(&event)) {
        queue::enqueue_event(conn, &target(&e.id), event, data, now)?;
    }
    Ok(())
}

/// A voucher event: to partners the holder granted (full), and to `union_events:read`
/// partners of unions above the campaign's (the holder masked). Returns the campaign's
/// union (for the audit entry). Call inside the transaction of the change.
pub fn voucher_event(
    conn: &mut DbConnection,
    event: &str,
    voucher: &VoucherId,
    now: NaiveDateTime,
) -> QueryResult<UnionId> {
    let mut unions = vouchers_event(conn, event, std::slice::from_ref(voucher), now)?;
    unions.pop().ok_or(diesel::result::Error::NotFound)
}

/// `voucher_event` for one voucher (a claim's) or many at once (an allocation's batch),
/// with a fixed number of reads; returns each voucher's union, in order.
pub fn vouchers_event(
    conn: &mut DbConnection,
    event: &str,
    of: &[VoucherId],
    now: NaiveDateTime,
) -> QueryResult<Vec<UnionId>> {
    type Row = (
        VoucherId,
        UserId,
        String,
        crate::domain::ids::CampaignId,
        UnionId,
        String,
        VoucherStatus,
        NaiveDateTime,
        bool,
    );
    // Whether any endpoint is live at all, in the same read: without one, the three reads
    // that address the events are skipped (most claims of a deployment with no partners).
    let any_endpoint =
        diesel::dsl::exists(webhook_endpoints::table.filter(webhook_endpoints::deleted_at.is_null()));
    let query = vouchers::table
        .inner_join(users::table.on(users::id.eq(vouchers::user_id)))
        .inner_join(campaigns::table.inner_join(unions::table))
        .select((
            vouchers::id,
            users::id,
            users::name,
            campaigns::id,
            unions::id,
            unions::path,
            vouchers::status,
            vouchers::expires_at,
            any_endpoint,
        ))
        .into_boxed();
    // One voucher (a claim, a redemption) by `=`: on SQLite, `IN` with a list is compiled
    // again on every call (diesel does not cache it), a sixth of a SQLite claim's CPU.
    let rows: Vec<Row> = match of {
        [one] => query.filter(vouchers::id.eq(one)).load(conn)?,
        many => query.filter(vouchers::id.eq_any(many)).load(conn)?,
    };
    if !rows.iter().any(|r| r.8) {
        return of
            .iter()
            .map(|id| rows.iter().find(|r| &r.0 == id).map(|r| r.4.clone()))
            .collect::<Option<Vec<_>>>()
            .ok_or(diesel::result::Error::NotFound);
    }
    let holders: Vec<&UserId> = rows.iter().map(|r| &r.1).collect();
    let grants: Vec<(UserId, PartnerId)> = partner_grants::table
        .filter(partner_grants::user_id.eq_any(&holders))
        .filter(partner_grants::revoked_at.is_null())
        .select((partner_grants::user_id, partner_grants::partner_id))
        .load(conn)?;
    let granted: Vec<Endpoint> = webhook_endpoints::table
        .filter(webhook_endpoints::deleted_at.is_null())
        .filter(webhook_endpoints::partner_id.eq_any(grants.iter().map(|(_, p)| p)))
        .select(Endpoint::as_select())
        .load(conn)?;
    // Union office systems see every voucher of their subtree, the holder masked.
    let offices: Vec<(Endpoint, String)> = webhook_endpoints::table
        .filter(webhook_endpoints::deleted_at.is_null())
        .inner_join(partners::table.inner_join(unions::table))
        .filter(partners::scopes.like("%union_events:read%"))
        .filter(partners::disabled_at.is_null())
        .select((Endpoint::as_select(), unions::path))
        .load(conn)?;
    let mut unions_of = Vec::with_capacity(of.len());
    for id in of {
        let (voucher, user, name, campaign, union_id, union_path, stored, expires_at, _) = rows
            .iter()
            .find(|r| &r.0 == id)
            .ok_or(diesel::result::Error::NotFound)?;
        // The state a person would see now (`issued` past its expiry reads `expired`).
        let status = stored.seen_at(*expires_at, now).as_str();
        let theirs: Vec<&PartnerId> = grants.iter().filter(|(u, _)| u == user).map(|(_, p)| p).collect();
        let to_partners: Vec<Endpoint> = granted
            .iter()
            .filter(|e| theirs.contains(&&e.partner_id))
            .cloned()
            .collect();
        let full =
            json!({"voucher_id": voucher, "campaign_id": campaign, "worker_id": user, "status": status});
        let already: Vec<EndpointId> = to_partners.iter().map(|e| e.id.clone()).collect();
        fan_out(conn, to_partners, event, &full, now)?;
        let masked = json!({"voucher_id": voucher, "campaign_id": campaign, "holder_name_masked": mask_name(name), "status": status});
        let to_offices = offices
            .iter()
            .filter(|(e, path)| union_path.starts_with(path.as_str()) && !already.contains(&e.id))
            .map(|(e, _)| e.clone())
            .collect();
        fan_out(conn, to_offices, event, &masked, now)?;
        unions_of.push(union_id.clone());
    }
    Ok(unions_of)
}

/// An event about one worker for one partner (a grant, an attestation).
pub fn partner_event(
    conn: &mut DbConnection,
    partner: &PartnerId,
    event: &str,
    data: &Value,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let endpoints = webhook_endpoints::table
        .filter(webhook_endpoints::deleted_at.is_null())
        .filter(webhook_endpoints::partner_id.eq(partner))
        .select(Endpoint::as_select())
        .load(conn)?;
    fan_out(conn, endpoints, event, data, now)
}

/// Records one delivery attempt (the delivery log).
pub fn log_attempt(
    conn: &mut DbConnection,
    message: &OutboxId,
    attempt: i32,
    status: Option<u16>,
    error: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(webhook_attempts::table)
        .values((
            webhook_attempts::id.eq(AttemptId::generate()),
            webhook_attempts::outbox_id.eq(message),
            webhook_attempts::attempt.eq(attempt),
            webhook_attempts::status_code.eq(status.map(i32::from)),
            webhook_attempts::error.eq(error),
            webhook_attempts::attempted_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The delivery log of an endpoint, newest first: one entry per attempt.
pub fn deliveries(
    conn: &mut DbConnection,
    endpoint: &EndpointId,
    before: Option<&AttemptId>,
    limit: i64,
) -> QueryResult<Vec<Value>> {
    type Row = (
        AttemptId,
        OutboxId,
        String,
        i32,
        Option<i32>,
        NaiveDateTime,
        NaiveDateTime,
        Option<NaiveDateTime>,
    );
    let mut q = webhook_attempts::table
        .inner_join(outbox::table)
        .filter(outbox::target.eq(target(endpoint)))
        .order(webhook_attempts::id.desc())
        .limit(limit)
        .select((
            webhook_attempts::id,
            outbox::id,
            outbox::event_type,
            webhook_attempts::attempt,
            webhook_attempts::status_code,
            webhook_attempts::attempted_at,
            outbox::next_attempt_at,
            outbox::delivered_at,
        ))
        .into_boxed();
    if let Some(b) = before {
        q = q.filter(webhook_attempts::id.lt(b));
    }
    let rows: Vec<Row> = q.load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(attempt_id, id, event_type, attempt, status, at, next, delivered)| {
                json!({
                    "attempt_id": attempt_id, "event_id": id, "event_type": event_type, "attempt": attempt,
                    "status_code": status, "attempted_at": crate::domain::utc(at),
                    "next_attempt_at": delivered.is_none().then(|| crate::domain::utc(next)),
                    "delivered": delivered.is_some(),
                })
            },
        )
        .collect())
}

/// Sends an event to its endpoint again (same `webhook-id`); false when the endpoint has
/// no such event.
pub fn redeliver(
    conn: &mut DbConnection,
    endpoint: &EndpointId,
    event: &OutboxId,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = diesel::update(
        outbox::table
            .find(event)
            .filter(outbox::target.eq(target(endpoint))),
    )
    .set((
        outbox::next_attempt_at.eq(now),
        outbox::delivered_at.eq(None::<NaiveDateTime>),
        outbox::gave_up_at.eq(None::<NaiveDateTime>),
        outbox::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}
