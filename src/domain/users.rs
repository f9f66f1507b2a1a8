//! Accounts: workers and staff share one table; `role` tells them apart.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::users;
use crate::db::{is_unique_violation, DbConnection};
use crate::domain::ids::{UnionId, UserId};
use crate::domain::phone::Phone;
use crate::domain::profile::{Occupation, Role};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub phone: Phone,
    pub password_hash: String,
    pub name: String,
    pub role: Role,
    pub occupation: Option<Occupation>,
    pub region_code: Option<String>,
    pub employer: Option<String>,
    pub occupation_verified: bool,
    pub hardship_archived: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Set while a staff account is disabled: it cannot sign in, its sessions are gone.
    pub disabled_at: Option<NaiveDateTime>,
    /// After an admin's reset: every route but `POST /me/password` answers 403.
    pub password_change_required: bool,
    /// Where deliveries go (送货上门): personal data, shown to its owner and to the counters
    /// of a delivery campaign the worker holds a voucher of, never in lists or logs.
    pub address: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser {
    pub id: UserId,
    pub phone: Phone,
    pub password_hash: String,
    pub name: String,
    pub role: Role,
    pub occupation: Option<Occupation>,
    pub region_code: Option<String>,
    pub employer: Option<String>,
    pub occupation_verified: bool,
    pub hardship_archived: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Staff only: the union whose subtree they act for.
    pub union_id: Option<UnionId>,
}

impl NewUser {
    pub fn new(phone: Phone, password_hash: String, name: String, role: Role, now: NaiveDateTime) -> Self {
        Self {
            id: UserId::generate(),
            phone,
            password_hash,
            name,
            role,
            occupation: None,
            region_code: None,
            employer: None,
            occupation_verified: false,
            hardship_archived: false,
            created_at: now,
            updated_at: now,
            union_id: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("that phone is already registered")]
    PhoneTaken,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Inserts the account; the unique index on `phone` decides a race between two sign-ups.
pub fn create(conn: &mut DbConnection, user: &NewUser) -> Result<(), CreateUserError> {
    match diesel::insert_into(users::table).values(user).execute(conn) {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(CreateUserError::PhoneTaken),
        Err(e) => Err(e.into()),
    }
}

pub fn find(conn: &mut DbConnection, id: &UserId) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_phone(conn: &mut DbConnection, phone: &Phone) -> QueryResult<Option<User>> {
    users::table
        .filter(users::phone.eq(phone))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// What a worker may change about themselves. `None` leaves a field alone;
/// `Some(None)` clears a nullable one.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct ProfileChanges {
    pub name: Option<String>,
    pub region_code: Option<Option<String>>,
    pub employer: Option<Option<String>>,
    pub address: Option<Option<String>>,
}

/// Applies the changes; a changed occupation clears `occupation_verified` in the same
/// statement, so a verification can never outlive the occupation it was for.
pub fn update_profile(
    conn: &mut DbConnection,
    id: &UserId,
    changes: &ProfileChanges,
    occupation: Option<Option<Occupation>>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((changes, users::updated_at.eq(now)))
        .execute(conn)?;
    match occupation {
        None => {}
        Some(Some(new)) => {
            diesel::update(
                users::table
                    .find(id)
                    .filter(users::occupation.ne(new).or(users::occupation.is_null())),
            )
            .set((
                users::occupation.eq(new),
                users::occupation_verified.eq(false),
                users::occupation_verified_by.eq(None::<String>),
            ))
            .execute(conn)?;
        }
        Some(None) => {
            diesel::update(users::table.find(id).filter(users::occupation.is_not_null()))
                .set((
                    users::occupation.eq(None::<Occupation>),
                    users::occupation_verified.eq(false),
                    users::occupation_verified_by.eq(None::<String>),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}
