//! Accounts: a worker registers and keeps their own profile.

use chrono::NaiveDateTime;
use serde::{Deserialize, Deserializer, Serialize};

use crate::db::DbConnection;
use crate::domain::attestations;
use crate::domain::ids::UserId;
use crate::domain::invalid::Invalid;
use crate::domain::phone::Phone;
use crate::domain::profile::{Occupation, Password, PersonName, RegionCode, Role};
use crate::domain::users::{self, CreateUserError, NewUser, ProfileChanges, User};
use crate::domain::voucher_code::VoucherKeys;

/// Why an account write is refused.
#[derive(Debug, thiserror::Error)]
pub enum AccountRefusal {
    #[error("that phone is already registered")]
    PhoneTaken,
    /// A value out of bounds; the message names the field.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl From<CreateUserError> for AccountRefusal {
    fn from(e: CreateUserError) -> Self {
        match e {
            CreateUserError::PhoneTaken => Self::PhoneTaken,
            CreateUserError::Database(e) => Self::Database(e),
        }
    }
}

/// `POST /auth/register`. The password is hashed by the handler (on the blocking pool,
/// behind the hashing semaphore) before `register` runs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    pub phone: Phone,
    pub password: Password,
    pub name: PersonName,
    #[serde(default)]
    pub occupation: Option<Occupation>,
    #[serde(default)]
    pub region_code: Option<RegionCode>,
}

/// Creates a worker account; the unique phone decides a race between two sign-ups.
/// Call inside a write transaction.
pub fn register(
    conn: &mut DbConnection,
    keys: &VoucherKeys,
    r: Registration,
    password_hash: String,
    now: NaiveDateTime,
) -> Result<User, AccountRefusal> {
    let phone = r.phone.clone();
    let mut user = NewUser::new(r.phone, password_hash, r.name.into_string(), Role::Worker, now);
    user.occupation = r.occupation;
    user.region_code = r.region_code.map(RegionCode::into_string);
    users::create(conn, &user)?;
    let subject = ("user", user.id.as_str());
    super::changes::audited(
        conn,
        Some(user.id.as_str()),
        "account.registered",
        subject,
        None,
        serde_json::json!({}),
        now,
    )?;
    // A platform that attested this phone before it registered (within 90 days).
    if let Some(applied) = attestations::apply_pending(conn, keys, &phone, &user.id, now)? {
        let subject = ("attestation", applied.as_str());
        let data = serde_json::json!({"worker_id": user.id});
        super::changes::audited(conn, None, "attestation.applied", subject, None, data, now)?;
    }
    // A union that listed this phone in its roster (名册导入) before it registered.
    super::roster_apply::apply_on_register(conn, keys, &phone, &user.id, now)?;
    // Read back in the same transaction: it is there.
    Ok(users::find(conn, &user.id)?.ok_or(diesel::result::Error::NotFound)?)
}

/// Tells "absent" (leave alone) from `null` (clear).
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// `PATCH /me`: absent fields stay, `null` clears a nullable one.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileEdit {
    #[serde(default)]
    pub name: Option<PersonName>,
    #[serde(default, deserialize_with = "present")]
    pub occupation: Option<Option<Occupation>>,
    #[serde(default, deserialize_with = "present")]
    pub region_code: Option<Option<RegionCode>>,
    #[serde(default, deserialize_with = "present")]
    pub employer: Option<Option<String>>,
    /// The delivery address (送货上门), up to 200 characters.
    #[serde(default, deserialize_with = "present")]
    pub address: Option<Option<String>>,
}

/// Applies the worker's own edit; a changed occupation loses its verification (see
/// `users::update_profile`). Call inside a write transaction.
pub fn update_profile(
    conn: &mut DbConnection,
    worker: &UserId,
    edit: ProfileEdit,
    now: NaiveDateTime,
) -> Result<(), AccountRefusal> {
    let employer = match edit.employer {
        Some(Some(raw)) => Some(Some(super::text(&raw, "employer", 100)?)),
        other => other,
    };
    let address = match edit.address {
        Some(Some(raw)) => Some(Some(super::text(&raw, "address", 200)?)),
        other => other,
    };
    // Which fields changed, never their values (the audit trail holds no personal data).
    let fields: Vec<&str> = [
        ("name", edit.name.is_some()),
        ("occupation", edit.occupation.is_some()),
        ("region_code", edit.region_code.is_some()),
        ("employer", employer.is_some()),
        ("address", address.is_some()),
    ]
    .into_iter()
    .filter_map(|(f, given)| given.then_some(f))
    .collect();
    let changes = ProfileChanges {
        name: edit.name.map(PersonName::into_string),
        region_code: edit.region_code.map(|r| r.map(RegionCode::into_string)),
        employer,
        address,
    };
    users::update_profile(conn, worker, &changes, edit.occupation, now)?;
    let subject = ("user", worker.as_str());
    let data = serde_json::json!({"fields": fields});
    super::changes::audited(
        conn,
        Some(worker.as_str()),
        "account.profile_updated",
        subject,
        None,
        data,
        now,
    )?;
    Ok(())
}
