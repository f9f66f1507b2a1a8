//! `GET /admin/audit-events`: the hash-chained audit trail of the admin's subtree.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::scope::AdminScope;
use crate::auth::Principal;
use crate::db;
use crate::domain::audit::{self, AuditFilter, StoredEntry};
use crate::domain::audit_chain;
use crate::domain::utc;
use crate::error::ApiError;
use crate::http::json::Query;
use crate::http::pagination;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    subject_id: Option<String>,
    action: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// An entry as the contract shows it: `{seq, at, actor_id, action, subject_type,
/// subject_id, union_id, data, hash, prev_hash}`.
#[derive(Debug, Serialize)]
pub struct AuditEventView {
    seq: i64,
    at: DateTime<Utc>,
    actor_id: Option<String>,
    action: String,
    subject_type: String,
    subject_id: String,
    union_id: Option<String>,
    data: Value,
    hash: String,
    prev_hash: String,
}

impl From<StoredEntry> for AuditEventView {
    fn from(e: StoredEntry) -> Self {
        Self {
            seq: e.seq.unwrap_or(0),
            at: utc(e.created_at),
            actor_id: e.actor_id,
            action: e.action,
            subject_type: e.subject_type,
            subject_id: e.subject_id,
            union_id: e.union_id,
            data: serde_json::from_str(&e.detail).unwrap_or(Value::Null),
            hash: e.hash.unwrap_or_default(),
            prev_hash: e.prev_hash.unwrap_or_default(),
        }
    }
}

fn short_filter(raw: Option<String>, field: &'static str) -> Result<Option<String>, ApiError> {
    match raw {
        Some(v) if v.is_empty() || v.chars().count() > 100 => {
            Err(crate::domain::invalid::Invalid::new(field, "应为 1 到 100 个字符").into())
        }
        other => Ok(other),
    }
}

/// Newest first. Entries still waiting for the chain are sealed first, so a change made
/// a moment ago is listed.
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let limit = pagination::limit(q.limit)?;
    let before_seq = pagination::cursor(q.cursor.as_deref(), |c| c.parse::<i64>().ok())?;
    let mut filter = AuditFilter {
        union_path: None,
        subject_id: short_filter(q.subject_id, "subject_id")?,
        action: short_filter(q.action, "action")?,
        before_seq,
    };
    let rows = db::run(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        filter.union_path = scope.path_prefix().map(str::to_owned);
        // Best effort: the list still answers (with what is chained) if sealing fails.
        if let Err(e) = audit_chain::seal_all(conn) {
            tracing::warn!(error = %e, "audit entries not chained before listing");
        }
        Ok::<_, ApiError>(audit::page(conn, &filter, limit + 1)?)
    })
    .await?;
    let items: Vec<AuditEventView> = rows.into_iter().map(AuditEventView::from).collect();
    Ok(
        HttpResponse::Ok().json(pagination::page(items, limit, |e: &AuditEventView| {
            e.seq.to_string()
        })),
    )
}
