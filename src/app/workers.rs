//! What staff set about a worker.

use chrono::NaiveDateTime;
use serde_json::json;

use crate::auth::scope::{AdminScope, ScopeError};
use crate::db::DbConnection;
use crate::domain::audit::{self, Audit};
use crate::domain::ids::UserId;
use crate::domain::workers::{self, Member, MemberFilter, WorkerFlags};
use crate::domain::{users, utc, voucher_reads};

/// A member of a union in the admin's scope, or `NotFound` (also for members elsewhere).
pub fn member_in_scope(
    conn: &mut DbConnection,
    scope: &AdminScope,
    id: &UserId,
) -> Result<Member, ScopeError> {
    let f = MemberFilter {
        union_path: scope.path_prefix(),
        only: Some(id),
        ..MemberFilter::default()
    };
    workers::members(conn, &f, 1)?.pop().ok_or(ScopeError::NotFound)
}

/// Sets the flags only staff may set (hardship register, verified occupation) on a
/// member of the admin's subtree, with an audit entry of who and when.
/// Call inside a write transaction.
pub fn set_flags(
    conn: &mut DbConnection,
    scope: &AdminScope,
    id: &UserId,
    flags: &WorkerFlags,
    now: NaiveDateTime,
) -> Result<Member, ScopeError> {
    let member = member_in_scope(conn, scope, id)?;
    workers::set_flags(conn, id, flags, now)?;
    let data = json!({
        "hardship_archived": flags.hardship_archived,
        "occupation_verified": flags.occupation_verified,
    });
    let entry = Audit::new(
        Some(scope.user().as_str()),
        "worker.flags_set",
        "user",
        id.as_str(),
    )
    .union(&member.union_id)
    .data(data);
    audit::record(conn, entry, now)?;
    member_in_scope(conn, scope, id)
}

/// A worker's full profile for the office (`GET /admin/workers/{id}`): the full name and
/// phone, the membership, and the vouchers of campaigns in the admin's scope.
#[derive(Debug, serde::Serialize)]
pub struct Profile {
    id: UserId,
    name: String,
    phone: String,
    occupation: Option<crate::domain::profile::Occupation>,
    region_code: Option<String>,
    employer: Option<String>,
    occupation_verified: bool,
    hardship_archived: bool,
    membership: serde_json::Value,
    vouchers: Vec<serde_json::Value>,
}

/// Reads the profile and writes its `pii.viewed` entry in the same transaction, so no
/// full phone is shown without a record of who saw it. Call inside a write transaction.
pub fn profile(
    conn: &mut DbConnection,
    scope: &AdminScope,
    id: &UserId,
    now: NaiveDateTime,
) -> Result<Profile, ScopeError> {
    let member = member_in_scope(conn, scope, id)?;
    let user = users::find(conn, id)?.ok_or(ScopeError::NotFound)?;
    let union_name = crate::domain::membership::union_name(conn, &member.union_id)?;
    let mut vouchers = Vec::new();
    for ((v, title, item), redeemed) in voucher_reads::wallet(conn, id, None, 50)? {
        if scope.campaign(conn, &v.campaign_id).is_err() {
            continue;
        }
        vouchers.push(json!({
            "id": v.id, "campaign_id": v.campaign_id, "campaign_title": title, "item_name": item,
            "status": v.state_at(now), "issued_at": utc(v.issued_at), "expires_at": utc(v.expires_at),
            "redeemed_at": redeemed.map(|r| utc(r.at)),
        }));
    }
    let entry = Audit::new(Some(scope.user().as_str()), "pii.viewed", "user", id.as_str())
        .union(&member.union_id)
        .data(json!({"fields": ["name", "phone"]}));
    audit::record(conn, entry, now)?;
    Ok(Profile {
        id: user.id,
        name: user.name,
        phone: user.phone.as_str().to_owned(),
        occupation: user.occupation,
        region_code: user.region_code,
        employer: user.employer,
        occupation_verified: user.occupation_verified,
        hardship_archived: user.hardship_archived,
        membership: json!({
            "id": member.membership_id, "union_id": member.union_id, "union_name": union_name,
            "member_no": member.member_no, "since": utc(member.member_since),
        }),
        vouchers,
    })
}
