//! Whether an access token's session is live: its state, decided from what one statement
//! saw of the session and its account (`state`, or beside other facts in a larger
//! statement: `standing::read`).

use diesel::prelude::*;

use crate::db::schema::{sessions, users};
use crate::db::DbConnection;
use crate::domain::ids::{SessionId, UserId};
use crate::domain::profile::Role;

/// The state an access token's session is in, with its user's current role.
pub enum SessionState {
    /// Live; `true` while the account must change its password first.
    Active(Role, bool),
    Revoked,
    Gone,
}

/// What one statement saw of a session and its account: enough to decide `SessionState`.
/// Read by `state`, or beside other facts in a larger statement (`standing::read`).
#[derive(Debug, Clone, Copy)]
pub struct SessionSeen {
    /// The session of this user was revoked (`Some(true)`), is not (`Some(false)`), or
    /// does not exist (`None`).
    pub revoked: Option<bool>,
    pub role: Role,
    pub disabled: bool,
    pub password_change_required: bool,
}

impl SessionState {
    /// The state `row` shows; `None` (no such account) is `Gone`.
    pub fn of(row: Option<SessionSeen>) -> Self {
        match row {
            None | Some(SessionSeen { revoked: None, .. }) => Self::Gone,
            // A disabled account's sessions are revoked with it; this also covers a session
            // that raced the disabling.
            Some(SessionSeen {
                revoked: Some(true), ..
            })
            | Some(SessionSeen { disabled: true, .. }) => Self::Revoked,
            Some(r) => Self::Active(r.role, r.password_change_required),
        }
    }
}

/// The state of `user`'s `session`, read now in one statement.
pub fn state(conn: &mut DbConnection, session: &SessionId, user: &UserId) -> QueryResult<SessionState> {
    type Row = (bool, Role, bool, bool);
    let query = sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(session))
        .filter(sessions::user_id.eq(user))
        .select((
            sessions::revoked_at.is_not_null(),
            users::role,
            users::disabled_at.is_not_null(),
            users::password_change_required,
        ));
    // One row at most (the session's key), so no bound `LIMIT ?`, which SQLite reads
    // while planning and then compiles the statement again on every call. Every request
    // whose session is not remembered asks: on the inner connection (`db::direct`).
    debug_assert!(crate::db::cached_by_type(&query));
    let row: Option<Row> = crate::db::direct::get_result(conn, query).optional()?;
    Ok(SessionState::of(row.map(|(revoked, role, disabled, change)| {
        SessionSeen {
            revoked: Some(revoked),
            role,
            disabled,
            password_change_required: change,
        }
    })))
}
