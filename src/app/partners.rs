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
    let (partner, secret) = partners::create(conn, &union.id, b.name.as_str(), &b.scopes, scope.user(), now)?;
    audit_partner(conn, scope, "partner.created", &partner, now)?;
    Ok((partner, secret))
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
    let partner = partners::find(conn, id)?.ok_or(PartnerRefusal::NotFound)?;
    audit_partner(conn, scope, "partner.disabled", &partner, now)?;
    Ok(partner)
}

/// A new client secret; the old one stops working at once.
pub fn rotate_secret(
    conn: &mut DbConnection,
    scope: &AdminScope,
    id: &PartnerId,
    now: NaiveDateTime,
) -> Refused<String> {
    let partner = in_scope(conn, scope, id)?;
    let secret = partners::rotate_secret(conn, id, now)?;
    audit_partner(conn, scope, "partner.secret_rotated", &partner, now)?;
    Ok(secret)
}

/// The audit entry of an admin's change to a partner.
fn audit_partner(
    conn: &mut DbConnection,
    scope: &AdminScope,
    action: &str,
    p: &Partner,
    now: NaiveDateTime,
) -> Refused<()> {
    let actor = Some(scope.user().as_str());
    let data = serde_json::json!({"scopes": p.scopes});
    Ok(super::changes::audited(
        conn,
        actor,
        action,
        ("partner", p.id.as_str()),
        Some(&p.union_id),
        data,
        now,
    )?)
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
        let subject = ("partner_grant", grant.id.as_str());
        super::changes::audited(
            conn,
            Some(worker.as_str()),
            "grant.created",
            subject,
            None,
            data,
            now,
        )?;
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
    let subject = ("partner_grant", id.as_str());
    super::changes::audited(
        conn,
        Some(worker.as_str()),
        "grant.revoked",
        subject,
        None,
        data,
        now,
    )?;
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
    let id = attestations::record(conn, keys, a, now)?.0;
    let data = serde_json::json!({"occupation": b.occupation});
    let subject = ("attestation", id.as_str());
    super::changes::audited(
        conn,
        Some(partner.as_str()),
        "attestation.recorded",
        subject,
        None,
        data,
        now,
    )?;
    Ok(id)
}
