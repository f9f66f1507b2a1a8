//! The outbox: every message to another system (the notification gateway now; partner
//! webhooks next) is a row written in the transaction of the change it announces, and
//! delivered afterwards by `deliver` — so a change without its message, or a message
//! without its change, cannot happen.
//!
//! Each row's `id` is its Standard Webhooks `webhook-id`, the same on every attempt, so a
//! receiver drops a repeat. Any number of instances deliver at once: an instance leases
//! a row with a conditional update (`lease_until` in the past or unset), so one attempt
//! runs at a time, and a crashed instance's lease simply runs out. A row is retried with
//! growing delays until it is delivered (2xx) or a day and more has passed.

pub mod deliver;
pub mod ssrf;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::Value;

use crate::db::schema::outbox;
use crate::db::DbConnection;
use crate::domain::ids::OutboxId;

/// The notification gateway (`NOTIFY_WEBHOOK_URL`).
pub const GATEWAY: &str = "gateway";

/// How long an attempt may hold its row before another instance may try.
const LEASE: Duration = Duration::seconds(60);

/// A row to deliver.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct Message {
    pub id: OutboxId,
    pub target: String,
    pub event_type: String,
    pub payload: String,
    pub created_at: NaiveDateTime,
    pub attempts: i32,
}

/// Queues `data` for `target` as a Standard Webhooks message `{type, timestamp, data}`.
/// Call inside the transaction of the change it announces.
pub fn enqueue(
    conn: &mut DbConnection,
    target: &str,
    event_type: &str,
    data: &Value,
    now: NaiveDateTime,
) -> QueryResult<OutboxId> {
    let id = OutboxId::generate();
    let payload = serde_json::json!({"type": event_type, "timestamp": crate::domain::utc(now), "data": data});
    insert(conn, &id, target, event_type, &payload, now)?;
    Ok(id)
}

/// Queues one message per `data` for `target`, as `enqueue` does, in one statement (a
/// batch of notifications). Call inside the transaction of the change.
pub fn enqueue_many(
    conn: &mut DbConnection,
    target: &str,
    event_type: &str,
    datas: &[Value],
    now: NaiveDateTime,
) -> QueryResult<()> {
    let timestamp = crate::domain::utc(now);
    let rows: Vec<_> = datas
        .iter()
        .map(|data| {
            let payload = serde_json::json!({"type": event_type, "timestamp": timestamp, "data": data});
            (
                outbox::id.eq(OutboxId::generate()),
                outbox::target.eq(target),
                outbox::event_type.eq(event_type),
                outbox::payload.eq(payload.to_string()),
                outbox::created_at.eq(now),
                outbox::next_attempt_at.eq(now),
            )
        })
        .collect();
    crate::db::insert_rows!(conn, outbox::table, rows)
}

/// Queues a partner event as the contract shapes it: `{id, type, created_at, data}`, the
/// `id` being the row's (and so the `webhook-id`). Call inside the change's transaction.
pub fn enqueue_event(
    conn: &mut DbConnection,
    target: &str,
    event_type: &str,
    data: &Value,
    now: NaiveDateTime,
) -> QueryResult<OutboxId> {
    let id = OutboxId::generate();
    let payload = serde_json::json!({"id": id, "type": event_type, "created_at": crate::domain::utc(now), "data": data});
    insert(conn, &id, target, event_type, &payload, now)?;
    Ok(id)
}

fn insert(
    conn: &mut DbConnection,
    id: &OutboxId,
    target: &str,
    event_type: &str,
    payload: &Value,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq(id),
            outbox::target.eq(target),
            outbox::event_type.eq(event_type),
            outbox::payload.eq(payload.to_string()),
            outbox::created_at.eq(now),
            outbox::next_attempt_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Messages neither delivered nor given up, and how many whole seconds the oldest due one
/// is overdue (0: none due), for the metrics.
pub fn backlog(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<(i64, i64)> {
    let open = outbox::table
        .filter(outbox::delivered_at.is_null())
        .filter(outbox::gave_up_at.is_null());
    let count: i64 = open.count().get_result(conn)?;
    let oldest: Option<NaiveDateTime> = open
        .filter(outbox::next_attempt_at.le(now))
        .select(diesel::dsl::min(outbox::next_attempt_at))
        .first(conn)?;
    Ok((count, oldest.map_or(0, |t| (now - t).num_seconds().max(0))))
}

/// Leases up to `limit` due messages of `target` (a `LIKE` pattern: `endpoint:%` leases
/// every partner endpoint's) for this instance. Each lease is a
/// conditional update, so of two instances only one gets a given row.
pub fn lease_due(
    conn: &mut DbConnection,
    target: &str,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Message>> {
    let due: Vec<OutboxId> = outbox::table
        .filter(outbox::target.like(target))
        .filter(outbox::delivered_at.is_null())
        .filter(outbox::gave_up_at.is_null())
        .filter(outbox::next_attempt_at.le(now))
        .filter(outbox::lease_until.is_null().or(outbox::lease_until.lt(now)))
        .order(outbox::next_attempt_at.asc())
        .limit(limit)
        .select(outbox::id)
        .load(conn)?;
    let mut leased = Vec::with_capacity(due.len());
    for id in due {
        let won = diesel::update(
            outbox::table
                .find(&id)
                .filter(outbox::delivered_at.is_null())
                .filter(outbox::lease_until.is_null().or(outbox::lease_until.lt(now))),
        )
        .set(outbox::lease_until.eq(now + LEASE))
        .execute(conn)?;
        if won == 1 {
            leased.extend(
                outbox::table
                    .find(&id)
                    .select(Message::as_select())
                    .first(conn)
                    .optional()?,
            );
        }
    }
    Ok(leased)
}

/// The receiver took it (2xx): never sent again.
pub fn delivered(conn: &mut DbConnection, id: &OutboxId, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::delivered_at.eq(now),
            outbox::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// The attempt failed: try again after `delay`, or give up once the message is older
/// than `give_up_after`. `error` is a short cause for operators (never a payload).
pub fn failed(
    conn: &mut DbConnection,
    message: &Message,
    error: &str,
    delay: Duration,
    give_up_after: Duration,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let give_up = now - message.created_at >= give_up_after;
    diesel::update(outbox::table.find(&message.id))
        .set((
            outbox::attempts.eq(message.attempts.saturating_add(1)),
            outbox::next_attempt_at.eq(now + delay),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(error),
            outbox::gave_up_at.eq(give_up.then_some(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// A target nobody configured: its messages are marked given up (they would otherwise
/// wait forever; a gateway configured later starts with what is new).
pub fn discard_for(conn: &mut DbConnection, target: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        outbox::table
            .filter(outbox::target.eq(target))
            .filter(outbox::delivered_at.is_null())
            .filter(outbox::gave_up_at.is_null()),
    )
    .set((
        outbox::gave_up_at.eq(now),
        outbox::last_error.eq("no receiver configured"),
    ))
    .execute(conn)
}
