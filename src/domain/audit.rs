//! The audit trail of staff decisions about workers.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::audit_events;
use crate::db::DbConnection;
use crate::domain::ids::{AuditEventId, UserId};

/// Records `actor` doing `action` to `subject`; `detail` is JSON without personal data.
pub fn record(
    conn: &mut DbConnection,
    actor: &UserId,
    action: &str,
    subject: &str,
    detail: &serde_json::Value,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::id.eq(AuditEventId::generate()),
            audit_events::actor_id.eq(actor),
            audit_events::action.eq(action),
            audit_events::subject_id.eq(subject),
            audit_events::detail.eq(detail.to_string()),
            audit_events::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}
