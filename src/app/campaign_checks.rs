//! What a campaign must satisfy whatever its state: bounded texts and stock, an ordered
//! window, valid rules naming real unions, and stations under the campaign's union.

use super::campaigns::{invalid, CampaignRefusal, Refused};
use crate::db::DbConnection;
use crate::domain::campaigns::CampaignFields;
use crate::domain::ids::StationId;
use crate::domain::invalid::Invalid;
use crate::domain::org;
use crate::domain::rules::{self, Rule};

pub(super) fn text(raw: &str, field: &str, max: usize) -> Refused<String> {
    Ok(super::text(raw, field, max)?)
}

pub(super) fn check_window(f: &CampaignFields) -> Refused<()> {
    if f.claim_starts_at >= f.claim_ends_at {
        return Err(invalid("claim_ends_at", "领取截止时间须晚于开始时间"));
    }
    if f.redeem_until < f.claim_ends_at {
        return Err(invalid("redeem_until", "核销截止时间不能早于领取截止时间"));
    }
    Ok(())
}

pub(super) fn check_stock(f: &CampaignFields) -> Refused<()> {
    if !(1..=10_000_000).contains(&f.total_stock) {
        return Err(invalid("total_stock", "总库存应在 1 到 10000000 之间"));
    }
    if !(1..=100).contains(&f.per_worker_limit) {
        return Err(invalid("per_worker_limit", "每人限领应在 1 到 100 之间"));
    }
    Ok(())
}

/// Rules are well-formed and every union they name exists; returns them as stored.
pub(super) fn check_rules(conn: &mut DbConnection, rules: &[Rule]) -> Refused<String> {
    rules::validate(rules)?;
    for (i, rule) in rules.iter().enumerate() {
        if let Rule::MemberOf { union_id } = rule {
            if org::find_union(conn, union_id)?.is_none() {
                return Err(invalid(&format!("rules[{i}].union_id"), "没有这个工会"));
            }
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
        return Err(invalid("station_ids", "最多 200 个驿站"));
    }
    Ok(stations_under(conn, union_path, stations)?)
}

/// A station named that does not lie under the union.
#[derive(Debug, thiserror::Error)]
pub enum StationsRefusal {
    /// The position in `station_ids` and the id.
    #[error("station_ids[{0}]: {1} is not a station of this union")]
    NotUnder(usize, StationId),
    /// The same station named twice (at this position).
    #[error("station_ids[{0}]: named twice")]
    Repeated(usize),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl From<StationsRefusal> for CampaignRefusal {
    fn from(e: StationsRefusal) -> Self {
        match e {
            StationsRefusal::NotUnder(..) | StationsRefusal::Repeated(_) => Self::Invalid(e.invalid()),
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
    for (i, id) in stations.iter().enumerate() {
        if stations[..i].contains(id) {
            return Err(StationsRefusal::Repeated(i));
        }
        if !org::station_under(conn, id, union_path)? {
            return Err(StationsRefusal::NotUnder(i, id.clone()));
        }
    }
    Ok(())
}

impl StationsRefusal {
    /// The 400 a `NotUnder` becomes, naming the position in `station_ids`.
    pub fn invalid(&self) -> Invalid {
        match self {
            Self::NotUnder(i, _) => Invalid::new(format!("station_ids[{i}]"), "不是本工会或下属工会的驿站"),
            Self::Repeated(i) => Invalid::new(format!("station_ids[{i}]"), "这个驿站重复了，请只写一次"),
            Self::Database(_) => Invalid::new("station_ids", "无法核对驿站"),
        }
    }
}
