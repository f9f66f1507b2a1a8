//! The union office manages its staff: rename, rebind, disable, reset a password.
//! Every change is audited in its own transaction; disabling and resets end the
//! account's sessions at once.

use chrono::NaiveDateTime;
use serde::Deserialize;
use serde_json::json;

use super::campaign_checks::stations_under;
use super::org::OrgRefusal;
use crate::auth::scope::{AdminScope, ScopeError};
use crate::auth::sessions;
use crate::db::DbConnection;
use crate::domain::audit::{self, Audit};
use crate::domain::ids::{StationId, UserId};
use crate::domain::invalid::Invalid;
use crate::domain::profile::{PersonName, Role};
use crate::domain::staff::{self, StaffRow};

/// A staff account of the admin's subtree, or `NotFound` (also for workers and for
/// staff elsewhere: they look the same).
pub fn staff_in_scope(
    conn: &mut DbConnection,
    scope: &AdminScope,
    id: &UserId,
) -> Result<StaffRow, ScopeError> {
    match staff::find(conn, id)? {
        Some(row) if scope.covers(&row.union_path) => Ok(row),
        _ => Err(ScopeError::NotFound),
    }
}

/// `PATCH /admin/staff/{id}`: absent fields stay.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffEdit {
    #[serde(default)]
    pub name: Option<PersonName>,
    #[serde(default)]
    pub station_ids: Option<Vec<StationId>>,
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// Applies the edit. Stations must lie under the account's own union and only counters
/// have them; an admin cannot disable themselves (someone must be left to undo it).
/// Call inside a write transaction.
pub fn update(
    conn: &mut DbConnection,
    scope: &AdminScope,
    id: &UserId,
    edit: StaffEdit,
    now: NaiveDateTime,
) -> Result<StaffRow, OrgRefusal> {
    let row = staff_in_scope(conn, scope, id)?;
    let actor = Some(scope.user().as_str());
    let entry = |action| Audit::new(actor, action, "user", id.as_str()).union(&row.union_id);
    if let Some(name) = &edit.name {
        staff::rename(conn, id, name.as_str(), now)?;
        audit::record(conn, entry("staff.renamed"), now)?;
    }
    if let Some(stations) = &edit.station_ids {
        if row.role != Role::Counter {
            return Err(Invalid::new("station_ids", "只有柜台账号可以绑定驿站").into());
        }
        if stations.is_empty() {
            return Err(Invalid::new("station_ids", "柜台账号至少要绑定一个驿站").into());
        }
        stations_under(conn, &row.union_path, stations)?;
        staff::rebind(conn, id, stations)?;
        audit::record(
            conn,
            entry("staff.stations_set").data(json!({"station_ids": stations})),
            now,
        )?;
    }
    match edit.disabled {
        Some(true) if id == scope.user() => {
            return Err(Invalid::new("disabled", "不能停用自己的账号").into());
        }
        Some(true) if staff::set_disabled(conn, id, Some(now), now)? => {
            let ended = sessions::revoke_all(conn, id, None, "disabled", now)?;
            audit::record(
                conn,
                entry("staff.disabled").data(json!({"sessions_ended": ended})),
                now,
            )?;
        }
        Some(false) if staff::set_disabled(conn, id, None, now)? => {
            audit::record(conn, entry("staff.enabled"), now)?;
        }
        _ => {}
    }
    Ok(staff_in_scope(conn, scope, id)?)
}

/// Stores the temporary password's hash, forces a change at the next sign-in and ends
/// every session. Call inside a write transaction.
pub fn reset_password(
    conn: &mut DbConnection,
    scope: &AdminScope,
    id: &UserId,
    temporary_hash: &str,
    now: NaiveDateTime,
) -> Result<(), OrgRefusal> {
    let row = staff_in_scope(conn, scope, id)?;
    staff::set_password(conn, id, temporary_hash, true, now)?;
    let ended = sessions::revoke_all(conn, id, None, "password_reset", now)?;
    let entry = Audit::new(
        Some(scope.user().as_str()),
        "staff.password_reset",
        "user",
        id.as_str(),
    )
    .union(&row.union_id)
    .data(json!({"sessions_ended": ended}));
    Ok(audit::record(conn, entry, now)?)
}

/// A temporary password: 12 characters without look-alikes (no 0/O, 1/l/I), from the
/// operating system's generator, to be read out or handed over once.
pub fn temporary_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..12)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}
