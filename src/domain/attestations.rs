//! Attestations: a platform's word that a phone's owner works as `occupation`. Applied to
//! that worker at once, or when the phone registers within 90 days; the answer to the
//! platform is the same either way, so it learns nothing about who is registered.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{attestations, partners, unions, users};
use crate::db::DbConnection;
use crate::domain::ids::{AttestationId, PartnerId, UserId};
use crate::domain::phone::Phone;
use crate::domain::profile::Occupation;
use crate::domain::voucher_code::VoucherKeys;

/// How long an attestation waits for its phone to register.
pub const PENDING_DAYS: i64 = 90;
const PHONE_LABEL: &str = "attested-phone:";

/// What a partner attests.
#[derive(Debug, Clone)]
pub struct NewAttestation<'a> {
    pub partner: &'a PartnerId,
    pub phone: &'a Phone,
    pub occupation: Occupation,
    pub employer: Option<String>,
    pub reference: String,
}

/// Records it and applies it if the phone's owner is a registered worker. Call inside a
/// write transaction. Returns the id and the worker it was applied to, if any.
pub fn record(
    conn: &mut DbConnection,
    keys: &VoucherKeys,
    a: NewAttestation<'_>,
    now: NaiveDateTime,
) -> QueryResult<(AttestationId, Option<UserId>)> {
    let id = AttestationId::generate();
    diesel::insert_into(attestations::table)
        .values((
            attestations::id.eq(&id),
            attestations::partner_id.eq(a.partner),
            attestations::phone_hash.eq(keys.tag(PHONE_LABEL, a.phone.as_str())),
            attestations::phone_masked.eq(a.phone.masked()),
            attestations::occupation.eq(a.occupation),
            attestations::employer.eq(&a.employer),
            attestations::reference.eq(&a.reference),
            attestations::created_at.eq(now),
            attestations::expires_at.eq(now + Duration::days(PENDING_DAYS)),
        ))
        .execute(conn)?;
    let worker: Option<UserId> = users::table
        .filter(users::phone.eq(a.phone))
        .filter(users::role.eq(crate::domain::profile::Role::Worker))
        .select(users::id)
        .first(conn)
        .optional()?;
    if let Some(w) = &worker {
        apply(conn, &id, w, now)?;
    }
    Ok((id, worker))
}

/// At registration: the newest waiting attestation of this phone, applied. Returns its id.
pub fn apply_pending(
    conn: &mut DbConnection,
    keys: &VoucherKeys,
    phone: &Phone,
    worker: &UserId,
    now: NaiveDateTime,
) -> QueryResult<Option<AttestationId>> {
    let waiting: Option<AttestationId> = attestations::table
        .filter(attestations::phone_hash.eq(keys.tag(PHONE_LABEL, phone.as_str())))
        .filter(attestations::applied_at.is_null())
        .filter(attestations::expires_at.gt(now))
        .order(attestations::id.desc())
        .select(attestations::id)
        .first(conn)
        .optional()?;
    if let Some(id) = &waiting {
        apply(conn, id, worker, now)?;
    }
    Ok(waiting)
}

fn apply(
    conn: &mut DbConnection,
    id: &AttestationId,
    worker: &UserId,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let (partner, occupation, employer): (PartnerId, Occupation, Option<String>) = attestations::table
        .find(id)
        .select((
            attestations::partner_id,
            attestations::occupation,
            attestations::employer,
        ))
        .first(conn)?;
    diesel::update(attestations::table.find(id))
        .set((
            attestations::applied_at.eq(now),
            attestations::applied_user_id.eq(worker),
        ))
        .execute(conn)?;
    diesel::update(users::table.find(worker))
        .set((
            users::occupation.eq(occupation),
            users::occupation_verified.eq(true),
            users::occupation_verified_by.eq(partner.as_str()),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    if let Some(e) = employer {
        diesel::update(users::table.find(worker))
            .set(users::employer.eq(e))
            .execute(conn)?;
    }
    // Only to a platform the worker granted: otherwise the event would tell it which
    // attested phones are registered.
    if crate::domain::grants::granted(conn, &partner, worker)? {
        let data = serde_json::json!({"attestation_id": id, "worker_id": worker, "occupation": occupation});
        crate::domain::webhooks::partner_event(conn, &partner, "attestation.applied", &data, now)?;
    }
    Ok(())
}

/// The name of the partner that verified the worker's occupation, if one did.
pub fn verified_by(conn: &mut DbConnection, worker: &UserId) -> QueryResult<Option<String>> {
    users::table
        .inner_join(partners::table.on(users::occupation_verified_by.eq(partners::id.nullable())))
        .filter(users::id.eq(worker))
        .select(partners::name)
        .first(conn)
        .optional()
}

/// An attestation as admins see it (phone masked).
#[derive(Debug, Clone, Queryable, serde::Serialize)]
pub struct AttestationRow {
    pub id: AttestationId,
    pub partner_id: PartnerId,
    pub partner_name: String,
    pub phone_masked: String,
    pub occupation: Occupation,
    pub reference: String,
    #[serde(skip)]
    pub created_at: NaiveDateTime,
    #[serde(skip)]
    pub applied_at: Option<NaiveDateTime>,
}

/// Attestations by partners of unions under `union_path`, newest first.
pub fn under(
    conn: &mut DbConnection,
    union_path: &str,
    before: Option<&AttestationId>,
    limit: i64,
) -> QueryResult<Vec<AttestationRow>> {
    let mut q = attestations::table
        .inner_join(partners::table.inner_join(unions::table))
        .filter(unions::path.like(format!("{union_path}%")))
        .order(attestations::id.desc())
        .limit(limit)
        .select((
            attestations::id,
            attestations::partner_id,
            partners::name,
            attestations::phone_masked,
            attestations::occupation,
            attestations::reference,
            attestations::created_at,
            attestations::applied_at,
        ))
        .into_boxed();
    if let Some(b) = before {
        q = q.filter(attestations::id.lt(b));
    }
    q.load(conn)
}
