//! What a campaign must satisfy whatever its state: bounded texts and stock, an ordered
//! window, valid rules naming real unions, and stations under the campaign's union.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

use super::campaigns::{invalid, CampaignRefusal, Refused};
use crate::db::DbConnection;
use crate::domain::campaigns::CampaignFields;
use crate::domain::ids::StationId;
use crate::domain::org;
use crate::domain::rules::{self, Rule};

pub(super) fn at(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc().trunc_subsecs(6)
}

pub(super) fn text(raw: &str, field: &str, max: usize) -> Refused<String> {
    super::text(raw, field, max).map_err(CampaignRefusal::Invalid)
}

pub(super) fn check_window(f: &CampaignFields) -> Refused<()> {
    if f.claim_starts_at >= f.claim_ends_at {
        return Err(invalid("claim_ends_at must be after claim_starts_at"));
    }
    if f.redeem_until < f.claim_ends_at {
        return Err(invalid("redeem_until must not be before claim_ends_at"));
    }
    Ok(())
}

pub(super) fn check_stock(f: &CampaignFields) -> Refused<()> {
    if !(1..=10_000_000).contains(&f.total_stock) {
        return Err(invalid("total_stock must be between 1 and 10000000"));
    }
    if !(1..=100).contains(&f.per_worker_limit) {
        return Err(invalid("per_worker_limit must be between 1 and 100"));
    }
    Ok(())
}

/// Rules are well-formed and every union they name exists; returns them as stored.
pub(super) fn check_rules(conn: &mut DbConnection, rules: &[Rule]) -> Refused<String> {
    rules::validate(rules).map_err(CampaignRefusal::Invalid)?;
    for id in rules::named_unions(rules) {
        if org::find_union(conn, &id)?.is_none() {
            return Err(invalid(format!("rules: member_of names no union ({id})")));
        }
    }
    serde_json::to_string(rules).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)).into())
}

/// At most 200 stations, each of the campaign's union or one below it.
pub(super) fn check_stations(
    conn: &mut DbConnection,
    union_path: &str,
    stations: &[StationId],
) -> Refused<()> {
    if stations.len() > 200 {
        return Err(invalid("station_ids: at most 200"));
    }
    Ok(stations_under(conn, union_path, stations)?)
}

/// A station named that does not lie under the union.
#[derive(Debug, thiserror::Error)]
pub enum StationsRefusal {
    #[error("station_ids: {0} is not a station of this union")]
    NotUnder(StationId),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl From<StationsRefusal> for CampaignRefusal {
    fn from(e: StationsRefusal) -> Self {
        match e {
            StationsRefusal::NotUnder(_) => Self::Invalid(e.to_string()),
            StationsRefusal::Database(e) => Self::Database(e),
        }
    }
}

/// Every station belongs to the union at `union_path` or one below it (campaigns and
/// counter staff alike).
pub fn stations_under(
    conn: &mut DbConnection,
    union_path: &str,
    stations: &[StationId],
) -> Result<(), StationsRefusal> {
    for id in stations {
        if !org::station_under(conn, id, union_path)? {
            return Err(StationsRefusal::NotUnder(id.clone()));
        }
    }
    Ok(())
}
