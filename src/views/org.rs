//! The union tree and its stations, as the public directory shows them.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::ids::UnionId;
use crate::domain::org::{Station, Union, UnionKind};
use crate::domain::utc;

/// A union in the public directory.
#[derive(Debug, Serialize)]
pub struct UnionView {
    pub id: UnionId,
    pub parent_id: Option<UnionId>,
    pub name: String,
    pub kind: UnionKind,
    pub region_code: String,
    pub onsite_auto_approve: bool,
    pub created_at: DateTime<Utc>,
}

impl From<Union> for UnionView {
    fn from(u: Union) -> Self {
        Self {
            id: u.id,
            parent_id: u.parent_id,
            name: u.name,
            kind: u.kind,
            region_code: u.region_code,
            onsite_auto_approve: u.onsite_auto_approve,
            created_at: utc(u.created_at),
        }
    }
}

/// A station in the directory, with its union's name and, when the caller said where
/// they are, the distance in metres.
#[derive(Debug, Serialize)]
pub struct StationView {
    #[serde(flatten)]
    pub station: Station,
    pub union_name: String,
    pub distance_m: Option<u64>,
}
