//! Object-level authorization: which unions an admin may act for, which stations a
//! counter may act at. Every admin and counter route loads one of these after the role
//! check and asks it about the object at hand.

use diesel::prelude::*;

use super::Principal;
use crate::db::schema::{unions, users};
use crate::db::DbConnection;
use crate::domain::ids::{StationId, UnionId, UserId};
use crate::domain::org;
use crate::domain::profile::Role;
use crate::error::{ApiError, ErrorCode};

pub const ADMIN_ROLES: &[Role] = &[Role::UnionAdmin, Role::PlatformAdmin];

#[derive(Debug, Clone)]
pub enum AdminScope {
    /// A platform_admin: everything.
    Platform { user: UserId },
    /// A union_admin: their union and its descendants.
    Subtree {
        user: UserId,
        union_id: UnionId,
        path: String,
    },
}

impl AdminScope {
    pub fn load(conn: &mut DbConnection, principal: &Principal) -> Result<Self, ApiError> {
        principal.require(ADMIN_ROLES)?;
        if principal.role == Role::PlatformAdmin {
            return Ok(Self::Platform {
                user: principal.user_id.clone(),
            });
        }
        let row: Option<(UnionId, String)> = users::table
            .inner_join(unions::table.on(users::union_id.eq(unions::id.nullable())))
            .filter(users::id.eq(&principal.user_id))
            .select((unions::id, unions::path))
            .first(conn)
            .optional()?;
        let (union_id, path) = row.ok_or(ErrorCode::Forbidden)?;
        Ok(Self::Subtree {
            user: principal.user_id.clone(),
            union_id,
            path,
        })
    }

    pub fn user(&self) -> &UserId {
        match self {
            Self::Platform { user } | Self::Subtree { user, .. } => user,
        }
    }

    /// True when a union with this path lies in the scope.
    pub fn covers(&self, union_path: &str) -> bool {
        match self {
            Self::Platform { .. } => true,
            Self::Subtree { path, .. } => union_path.starts_with(path.as_str()),
        }
    }

    /// The path prefix to filter lists by; `None` for everything.
    pub fn path_prefix(&self) -> Option<&str> {
        match self {
            Self::Platform { .. } => None,
            Self::Subtree { path, .. } => Some(path),
        }
    }

    /// The union if it exists and is in scope; 404 for a missing one, 403 for one outside
    /// (the union directory is public, so there is nothing to hide).
    pub fn union_in_scope(&self, conn: &mut DbConnection, id: &UnionId) -> Result<org::Union, ApiError> {
        let union = org::find_union(conn, id)?
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound).with_detail("no such union"))?;
        if self.covers(&union.path) {
            Ok(union)
        } else {
            Err(ErrorCode::Forbidden.into())
        }
    }
}

/// A counter account and the stations it is bound to.
#[derive(Debug, Clone)]
pub struct CounterScope {
    pub user: UserId,
    /// (station, the station's union, that union's path)
    pub stations: Vec<(StationId, UnionId, String)>,
}

impl CounterScope {
    pub fn load(conn: &mut DbConnection, principal: &Principal) -> Result<Self, ApiError> {
        principal.require(&[Role::Counter])?;
        Ok(Self {
            user: principal.user_id.clone(),
            stations: org::stations_of_staff(conn, &principal.user_id)?,
        })
    }

    pub fn has_station(&self, station: &StationId) -> bool {
        self.stations.iter().any(|(s, _, _)| s == station)
    }

    /// True when one of the counter's stations belongs to `union` itself.
    pub fn serves_union(&self, union: &UnionId) -> bool {
        self.stations.iter().any(|(_, u, _)| u == union)
    }
}
