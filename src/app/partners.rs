//! Partners (third-party apps) as admins manage them, workers grant them, and they attest.

use chrono::NaiveDateTime;
use serde::Deserialize;

use crate::auth::scope::{AdminScope, ScopeError};
use crate::db::DbConnection;
use crate::domain::attestations::{self, NewAttestation};
use crate::domain::grants::{self, Grant};
use crate::domain::ids::{AttestationId, GrantId, PartnerId, UnionId, UserId};
use crate::domain::invalid::Invalid;
use crate::domain::partners::{self, Partner, Scope};
use crate::domain::phone::Phone;
use crate::domain::profile::{Occupation, PersonName};
use crate::domain::text::FreeText;
use crate::domain::voucher_code::VoucherKeys;
use crate::domain::webhooks;

/// Why a partner step is refused.
#[derive(Debug, thiserror::Error)]
pub enum PartnerRefusal {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// No such partner (or not visible: another subtree's, or disabled for a worker).
    #[error("no such partner")]
    NotFound,
    #[error(transparent)]
    Scope(#[from] ScopeError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

type Refused<T> = Result<T, PartnerRefusal>;

/// `POST /admin/partners`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPartner {
    pub name: PersonName,
    pub union_id: UnionId,
    pub scopes: Vec<Scope>,
}

/// A partner for a union of the admin's subtree; returns it with its secret (shown once).
/// Call inside a write transaction.
pub fn create(
    conn: &mut DbConnection,
    scope: &AdminScope,
    b: &NewPartner,
    now: NaiveDateTime,
) -> Refused<(Partner, String)> {
    if b.scopes.is_empty() {
        return Err(Invalid::new("scopes", "至少授予一项权限").into());
    }
    let union = scope.union(conn, &b.union_id)?;
    Ok(partners::create(
        conn,
        &union.id,
        b.name.as_str(),
        &b.scopes,
        scope.user(),
        now,
    )?)
}

/// The partner if its union lies in the admin's subtree (else 404, as if absent).
fn in_scope(conn: &mut DbConnection, scope: &AdminScope, id: &PartnerId) -> Refused<Partner> {
    let partner = partners::find(conn, id)?.ok_or(PartnerRefusal::NotFound)?;
    scope
        .union(conn, &partner.union_id)
        .map_err(|_| PartnerRefusal::NotFound)?;
    Ok(partner)
}

/// Disables a partner: its tokens stop working at once (checked on every call).
pub fn disable(
    conn: &mut DbConnection,
    scope: &AdminScope,
    id: &PartnerId,
    now: NaiveDateTime,
) -> Refused<Partner> {
    in_scope(conn, scope, id)?;
    partners::disable(conn, id, now)?;
    partners::find(conn, id)?.ok_or(PartnerRefusal::NotFound)
}

/// A new client secret; the old one stops working at once.
pub fn rotate_secret(
    conn: &mut DbConnection,
    scope: &AdminScope,
    id: &PartnerId,
    now: NaiveDateTime,
) -> Refused<String> {
    in_scope(conn, scope, id)?;
    Ok(partners::rotate_secret(conn, id, now)?)
}

/// A worker allows an enabled partner to read them. Call inside a write transaction.
pub fn grant(
    conn: &mut DbConnection,
    worker: &UserId,
    partner: &PartnerId,
    now: NaiveDateTime,
) -> Refused<Grant> {
    let p = partners::find(conn, partner)?.filter(|p| p.disabled_at.is_none());
    p.ok_or(PartnerRefusal::NotFound)?;
    let (grant, created) = grants::grant(conn, worker, partner, now)?;
    if created {
        let data = serde_json::json!({"grant_id": grant.id, "worker_id": worker});
        webhooks::partner_event(conn, partner, "grant.created", &data, now)?;
    }
    Ok(grant)
}

/// A worker takes a grant back; the partner's next read is a 404.
pub fn revoke_grant(
    conn: &mut DbConnection,
    worker: &UserId,
    id: &GrantId,
    now: NaiveDateTime,
) -> Refused<PartnerId> {
    let partner = grants::revoke(conn, worker, id, now)?.ok_or(PartnerRefusal::NotFound)?;
    let data = serde_json::json!({"grant_id": id, "worker_id": worker});
    webhooks::partner_event(conn, &partner, "grant.revoked", &data, now)?;
    Ok(partner)
}

/// `POST /partner/attestations`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attest {
    pub phone: Phone,
    pub occupation: Occupation,
    #[serde(default)]
    pub employer: Option<FreeText<100>>,
    pub reference: FreeText<100>,
}

/// Records a platform's attestation, applied now or when the phone registers. The answer
/// is the same either way. Call inside a write transaction.
pub fn attest(
    conn: &mut DbConnection,
    keys: &VoucherKeys,
    partner: &PartnerId,
    b: Attest,
    now: NaiveDateTime,
) -> Refused<AttestationId> {
    let a = NewAttestation {
        partner,
        phone: &b.phone,
        occupation: b.occupation,
        employer: b.employer.map(FreeText::into_string),
        reference: b.reference.into_string(),
    };
    Ok(attestations::record(conn, keys, a, now)?.0)
}
