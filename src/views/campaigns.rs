//! Campaigns as workers and admins see them.

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use serde::Serialize;

use crate::db::DbConnection;
use crate::domain::campaigns::{self, Campaign, CampaignMode, CampaignStatus, Fulfilment};
use crate::domain::ids::{CampaignId, StationId, UnionId};
use crate::domain::org::{self, Station};
use crate::domain::releases;
use crate::domain::rules::Rule;
use crate::domain::utc;

/// A campaign as workers and admins see it; `rules` and stations only in detail views.
#[derive(Debug, Serialize)]
pub struct CampaignView {
    pub id: CampaignId,
    pub union_id: UnionId,
    pub title: String,
    pub item_name: String,
    pub description: Option<String>,
    pub status: CampaignStatus,
    /// `claim` or `allocate` (精准发放).
    pub mode: CampaignMode,
    /// `pickup` or `delivery` (送货上门).
    pub fulfilment: Fulfilment,
    pub total_stock: i64,
    /// Released units not held by a live voucher (`campaigns::remaining`: one definition).
    pub remaining: i64,
    /// Units in batches still to come, and when the next one comes.
    pub unreleased: i64,
    pub next_release_at: Option<DateTime<Utc>>,
    pub voucher_valid_days: Option<i32>,
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
    /// Detail views only: the batches, `{at, quantity, released}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stock_releases: Option<Vec<serde_json::Value>>,
}

/// A list entry: no rules or stations.
pub fn summary(conn: &mut DbConnection, c: Campaign) -> QueryResult<CampaignView> {
    let remaining = campaigns::remaining(conn, &c, crate::domain::now())?;
    let (unreleased, next_release_at) = releases::unreleased(conn, &c.id)?;
    Ok(CampaignView {
        id: c.id,
        union_id: c.union_id,
        title: c.title,
        item_name: c.item_name,
        description: c.description,
        status: c.status,
        mode: c.mode,
        fulfilment: c.fulfilment,
        total_stock: c.total_stock,
        remaining,
        unreleased,
        next_release_at: next_release_at.map(utc),
        voucher_valid_days: c.voucher_valid_days,
        per_worker_limit: c.per_worker_limit,
        claim_starts_at: utc(c.claim_starts_at),
        claim_ends_at: utc(c.claim_ends_at),
        redeem_until: utc(c.redeem_until),
        published_at: c.published_at.map(utc),
        created_at: utc(c.created_at),
        rules: None,
        station_ids: None,
        stations: None,
        stock_releases: None,
    })
}

/// List entries for a page of campaigns.
pub fn summaries(conn: &mut DbConnection, rows: Vec<Campaign>) -> QueryResult<Vec<CampaignView>> {
    rows.into_iter().map(|c| summary(conn, c)).collect()
}

/// One campaign with its rules and stations.
pub fn detail(conn: &mut DbConnection, c: Campaign) -> QueryResult<CampaignView> {
    let rules = c.rules()?;
    let station_ids = campaigns::station_ids(conn, &c.id)?;
    let mut stations = Vec::with_capacity(station_ids.len());
    for id in &station_ids {
        stations.extend(org::find_station(conn, id)?);
    }
    let batches = releases::list(conn, &c.id)?
        .into_iter()
        .map(|r| serde_json::json!({"at": utc(r.release_at), "quantity": r.quantity, "released": r.released_at.is_some()}))
        .collect();
    let mut view = summary(conn, c)?;
    view.stock_releases = Some(batches);
    view.rules = Some(rules);
    view.station_ids = Some(station_ids);
    view.stations = Some(stations);
    Ok(view)
}
