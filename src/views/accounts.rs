//! People: an account as its owner sees it, staff accounts, and workers as staff see them.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::membership::MembershipView;
use crate::domain::ids::{MembershipId, StationId, UnionId, UserId};
use crate::domain::phone::{mask_name, Phone};
use crate::domain::profile::{Occupation, Role};
use crate::domain::staff::StaffRow;
use crate::domain::users::{NewUser, User};
use crate::domain::utc;
use crate::domain::workers::Member;

/// The account as its owner sees it (full phone: it is theirs).
#[derive(Debug, Serialize)]
pub struct AccountView {
    pub id: UserId,
    pub phone: Phone,
    pub name: String,
    pub role: Role,
    pub occupation: Option<Occupation>,
    pub region_code: Option<String>,
    pub employer: Option<String>,
    pub occupation_verified: bool,
    pub hardship_archived: bool,
    /// The delivery address: the owner's own view only.
    pub address: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&User> for AccountView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.clone(),
            phone: u.phone.clone(),
            name: u.name.clone(),
            role: u.role,
            occupation: u.occupation,
            region_code: u.region_code.clone(),
            employer: u.employer.clone(),
            occupation_verified: u.occupation_verified,
            hardship_archived: u.hardship_archived,
            address: u.address.clone(),
            created_at: utc(u.created_at),
        }
    }
}

/// `GET /me`: the account and its membership standing; for staff also the union they
/// work for and, for counters, the stations they serve (contract v1.1).
#[derive(Debug, Serialize)]
pub struct MeView {
    #[serde(flatten)]
    pub account: AccountView,
    pub membership: MembershipView,
    /// The partner that verified the occupation (null: nobody, or union staff).
    pub occupation_verified_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub union: Option<NamedRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stations: Option<Vec<StationRef>>,
}

/// A union as staff see their own: `{id, name}`.
#[derive(Debug, Serialize)]
pub struct NamedRef {
    pub id: UnionId,
    pub name: String,
}

/// A station a counter serves: `{id, name, union_id}`.
#[derive(Debug, Serialize)]
pub struct StationRef {
    pub id: StationId,
    pub name: String,
    pub union_id: UnionId,
}

/// A staff account as the admin who created it sees it.
#[derive(Debug, Serialize)]
pub struct StaffView {
    id: UserId,
    phone_masked: String,
    name: String,
    role: Role,
    union_id: Option<UnionId>,
    station_ids: Vec<StationId>,
    disabled: bool,
}

/// The new staff account as its creator sees it (phone masked).
pub fn staff(user: &NewUser, stations: &[StationId]) -> StaffView {
    StaffView {
        id: user.id.clone(),
        phone_masked: user.phone.masked(),
        name: user.name.clone(),
        role: user.role,
        union_id: user.union_id.clone(),
        station_ids: stations.to_vec(),
        disabled: false,
    }
}

impl StaffView {
    /// The account's id (the list's keyset cursor).
    pub fn id(&self) -> &UserId {
        &self.id
    }
}

/// A staff account in the office's list; `bindings` holds `(user, station)` pairs.
pub fn staff_row(row: StaffRow, bindings: &[(UserId, StationId)]) -> StaffView {
    StaffView {
        station_ids: bindings
            .iter()
            .filter(|(u, _)| u == &row.id)
            .map(|(_, s)| s.clone())
            .collect(),
        phone_masked: row.phone.masked(),
        name: row.name,
        role: row.role,
        union_id: Some(row.union_id),
        disabled: row.disabled_at.is_some(),
        id: row.id,
    }
}

/// A worker as staff see them: masked, and only what their work needs.
#[derive(Debug, Serialize)]
pub struct WorkerView {
    pub id: UserId,
    name_masked: String,
    phone_masked: String,
    occupation: Option<Occupation>,
    region_code: Option<String>,
    occupation_verified: bool,
    hardship_archived: bool,
    union_id: UnionId,
    member_no: String,
    member_since: DateTime<Utc>,
    membership_id: MembershipId,
}

impl From<Member> for WorkerView {
    fn from(m: Member) -> Self {
        Self {
            id: m.id,
            name_masked: mask_name(&m.name),
            phone_masked: m.phone.masked(),
            occupation: m.occupation,
            region_code: m.region_code,
            occupation_verified: m.occupation_verified,
            hardship_archived: m.hardship_archived,
            union_id: m.union_id,
            member_no: m.member_no,
            member_since: utc(m.member_since),
            membership_id: m.membership_id,
        }
    }
}
