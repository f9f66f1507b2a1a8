//! Object-level authorization: which unions an admin may act for, which stations a
//! counter may act at. Every admin and counter route loads one of these after the role
//! check and asks it about the object at hand; use cases take the loaded scope. The one
//! exception is the counter redemption, whose voucher read also reads the counter's
//! binding to the station (`voucher_reads::to_redeem_at`).
//!
//! Objects of another district answer `NotFound`, as if they did not exist. Unions are
//! public (the directory lists them), so acting under one outside the scope is
//! `OutsideScope` (403) instead.

use diesel::prelude::*;

use super::Principal;
use crate::db::schema::{unions, users};
use crate::db::DbConnection;
use crate::domain::applications;
use crate::domain::campaigns::{self, Campaign};
use crate::domain::ids::{ApplicationId, CampaignId, StationId, UnionId, UserId};
use crate::domain::membership::{Application, ApplicationKind};
use crate::domain::org;
use crate::domain::profile::Role;

pub const ADMIN_ROLES: &[Role] = &[Role::UnionAdmin, Role::PlatformAdmin];

/// Why a scope refuses. Mapped to HTTP in `error::refusals`.
#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    /// The principal's role does not act here, or a staff account has no union.
    #[error("forbidden")]
    Forbidden,
    /// A union named by id does not exist.
    #[error("no such union")]
    UnionNotFound,
    /// A union exists but lies outside the admin's subtree.
    #[error("union outside the scope")]
    OutsideScope,
    /// The object does not exist or lies outside the scope (the two look the same).
    #[error("not found")]
    NotFound,
    /// A counter named a station it is not bound to.
    #[error("station not allowed")]
    StationNotAllowed,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

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
    pub fn load(conn: &mut DbConnection, principal: &Principal) -> Result<Self, ScopeError> {
        match principal.role {
            Role::PlatformAdmin => {
                return Ok(Self::Platform {
                    user: principal.user_id.clone(),
                })
            }
            Role::UnionAdmin => {}
            Role::Worker | Role::Counter => return Err(ScopeError::Forbidden),
        }
        let row: Option<(UnionId, String)> = users::table
            .inner_join(unions::table.on(users::union_id.eq(unions::id.nullable())))
            .filter(users::id.eq(&principal.user_id))
            .select((unions::id, unions::path))
            .first(conn)
            .optional()?;
        let (union_id, path) = row.ok_or(ScopeError::Forbidden)?;
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

    /// The union if it exists and is in scope.
    pub fn union(&self, conn: &mut DbConnection, id: &UnionId) -> Result<org::Union, ScopeError> {
        let union = org::find_union(conn, id)?.ok_or(ScopeError::UnionNotFound)?;
        if self.covers(&union.path) {
            Ok(union)
        } else {
            Err(ScopeError::OutsideScope)
        }
    }

    /// The campaign with its union's path, if its union is in scope.
    pub fn campaign(
        &self,
        conn: &mut DbConnection,
        id: &CampaignId,
    ) -> Result<(Campaign, String), ScopeError> {
        match campaigns::find_with_union_path(conn, id)? {
            Some((c, path)) if self.covers(&path) => Ok((c, path)),
            _ => Err(ScopeError::NotFound),
        }
    }

    /// The application of `kind` if it targets a union in scope.
    pub fn application(
        &self,
        conn: &mut DbConnection,
        id: &ApplicationId,
        kind: ApplicationKind,
    ) -> Result<Application, ScopeError> {
        match applications::find_with_union_path(conn, id, kind)? {
            Some((app, path)) if self.covers(&path) => Ok(app),
            _ => Err(ScopeError::NotFound),
        }
    }
}

/// A campaign anyone signed in may see: any but a draft, which only admins of its
/// union's subtree see. `NotFound` otherwise.
pub fn visible_campaign(
    conn: &mut DbConnection,
    principal: &Principal,
    id: &CampaignId,
) -> Result<Campaign, ScopeError> {
    let (campaign, path) = campaigns::find_with_union_path(conn, id)?.ok_or(ScopeError::NotFound)?;
    if campaign.status != crate::domain::campaigns::CampaignStatus::Draft {
        return Ok(campaign);
    }
    let admin_sees =
        ADMIN_ROLES.contains(&principal.role) && AdminScope::load(conn, principal)?.covers(&path);
    if admin_sees {
        Ok(campaign)
    } else {
        Err(ScopeError::NotFound)
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
    pub fn load(conn: &mut DbConnection, principal: &Principal) -> Result<Self, ScopeError> {
        if principal.role != Role::Counter {
            return Err(ScopeError::Forbidden);
        }
        Ok(Self {
            user: principal.user_id.clone(),
            stations: org::stations_of_staff(conn, &principal.user_id)?,
        })
    }

    pub fn has_station(&self, station: &StationId) -> bool {
        self.stations.iter().any(|(s, _, _)| s == station)
    }

    /// The stations a request acts at: the one it names (if the counter's), or all of them.
    pub fn serving(&self, station: Option<&StationId>) -> Result<Vec<StationId>, ScopeError> {
        match station {
            Some(s) if self.has_station(s) => Ok(vec![s.clone()]),
            Some(_) => Err(ScopeError::StationNotAllowed),
            None => Ok(self.stations.iter().map(|(s, _, _)| s.clone()).collect()),
        }
    }

    /// True when one of the counter's stations belongs to `union` itself.
    pub fn serves_union(&self, union: &UnionId) -> bool {
        self.stations.iter().any(|(_, u, _)| u == union)
    }
}
