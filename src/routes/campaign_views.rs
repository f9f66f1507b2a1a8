//! How campaigns are shown, and the checks on what admins write into them.

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;

use crate::auth::scope::AdminScope;
use crate::db::DbConnection;
use crate::domain::campaigns::{self, Campaign};
use crate::domain::ids::{CampaignId, StationId, UnionId};
use crate::domain::org::{self, Station};
use crate::domain::rules::{self, Rule};
use crate::domain::utc;
use crate::error::{ApiError, ErrorCode};

#[derive(Debug, Serialize)]
pub struct CampaignView {
    pub id: CampaignId,
    pub union_id: UnionId,
    pub title: String,
    pub item_name: String,
    pub description: Option<String>,
    pub status: String,
    pub total_stock: i64,
    pub remaining: i64,
    pub per_worker_limit: i32,
    pub claim_starts_at: DateTime<Utc>,
    pub claim_ends_at: DateTime<Utc>,
    pub redeem_until: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Detail views only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules: Option<Vec<Rule>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub station_ids: Option<Vec<StationId>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stations: Option<Vec<Station>>,
}

/// A list entry: no rules or stations.
pub fn summary(conn: &mut DbConnection, c: Campaign) -> Result<CampaignView, ApiError> {
    let remaining = campaigns::remaining(conn, &c.id)?;
    Ok(CampaignView {
        id: c.id,
        union_id: c.union_id,
        title: c.title,
        item_name: c.item_name,
        description: c.description,
        status: c.status,
        total_stock: c.total_stock,
        remaining,
        per_worker_limit: c.per_worker_limit,
        claim_starts_at: utc(c.claim_starts_at),
        claim_ends_at: utc(c.claim_ends_at),
        redeem_until: utc(c.redeem_until),
        published_at: c.published_at.map(utc),
        created_at: utc(c.created_at),
        rules: None,
        station_ids: None,
        stations: None,
    })
}

/// One campaign with its rules and stations.
pub fn detail(conn: &mut DbConnection, c: Campaign) -> Result<CampaignView, ApiError> {
    let rules = c.rules()?;
    let station_ids = campaigns::station_ids(conn, &c.id)?;
    let mut stations = Vec::with_capacity(station_ids.len());
    for id in &station_ids {
        stations.extend(org::find_station(conn, id)?);
    }
    let mut view = summary(conn, c)?;
    view.rules = Some(rules);
    view.station_ids = Some(station_ids);
    view.stations = Some(stations);
    Ok(view)
}

pub fn text(raw: &str, field: &str, max: usize) -> Result<String, ApiError> {
    crate::domain::profile::bounded_text(raw, max)
        .ok_or_else(|| ApiError::invalid(format!("{field} must be 1-{max} characters")))
}

pub fn at(t: DateTime<Utc>) -> chrono::NaiveDateTime {
    t.naive_utc().trunc_subsecs(6)
}

pub fn check_window(
    starts: chrono::NaiveDateTime,
    ends: chrono::NaiveDateTime,
    redeem_until: chrono::NaiveDateTime,
) -> Result<(), ApiError> {
    if starts >= ends {
        return Err(ApiError::invalid("claim_ends_at must be after claim_starts_at"));
    }
    if redeem_until < ends {
        return Err(ApiError::invalid("redeem_until must not be before claim_ends_at"));
    }
    Ok(())
}

pub fn check_stock(total: i64, per_worker: i32) -> Result<(), ApiError> {
    if !(1..=10_000_000).contains(&total) {
        return Err(ApiError::invalid("total_stock must be between 1 and 10000000"));
    }
    if !(1..=100).contains(&per_worker) {
        return Err(ApiError::invalid("per_worker_limit must be between 1 and 100"));
    }
    Ok(())
}

/// Rules are well-formed and every union they name exists.
pub fn check_rules(conn: &mut DbConnection, rules: &[Rule]) -> Result<String, ApiError> {
    rules::validate(rules).map_err(ApiError::invalid)?;
    for id in rules::named_unions(rules) {
        if org::find_union(conn, &id)?.is_none() {
            return Err(ApiError::invalid(format!(
                "rules: member_of names no union ({id})"
            )));
        }
    }
    serde_json::to_string(rules).map_err(ApiError::internal)
}

/// At most 200 stations, each of the campaign's union or one below it.
pub fn check_stations(
    conn: &mut DbConnection,
    union_path: &str,
    stations: &[StationId],
) -> Result<(), ApiError> {
    if stations.len() > 200 {
        return Err(ApiError::invalid("station_ids: at most 200"));
    }
    stations_under(conn, union_path, stations)
}

/// Every station belongs to the union at `union_path` or one below it (400 otherwise).
pub fn stations_under(
    conn: &mut DbConnection,
    union_path: &str,
    stations: &[StationId],
) -> Result<(), ApiError> {
    for id in stations {
        if !org::station_under(conn, id, union_path)? {
            return Err(ApiError::invalid(format!(
                "station_ids: {id} is not a station of this union"
            )));
        }
    }
    Ok(())
}

pub fn conflict(detail: &str) -> ApiError {
    ApiError::new(ErrorCode::CampaignStateConflict).with_detail(detail)
}

/// The campaign if it exists and its union is in the admin's scope; 404 otherwise.
pub fn campaign_in_scope(
    conn: &mut DbConnection,
    scope: &AdminScope,
    id: &CampaignId,
) -> Result<(Campaign, String), ApiError> {
    match campaigns::find_with_union_path(conn, id)? {
        Some((c, path)) if scope.covers(&path) => Ok((c, path)),
        _ => Err(ErrorCode::NotFound.into()),
    }
}
