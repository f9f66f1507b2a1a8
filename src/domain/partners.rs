//! Partner clients (third-party apps) and what they may do: OAuth 2.0 client credentials
//! (RFC 6749 §4.4) with scopes. The client secret is 256 random bits shown once and kept
//! only as its SHA-256 (a high-entropy secret needs no slow hash).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::db::schema::{partners, unions};
use crate::db::DbConnection;
use crate::domain::ids::{PartnerId, UnionId, UserId};

crate::text_enum!(
    /// What a partner token may do (contract v1.1, "Partners").
    pub enum Scope {
        AttestationsWrite => "attestations:write",
        WorkersRead => "workers:read",
        VouchersRead => "vouchers:read",
        WebhooksManage => "webhooks:manage",
        UnionEventsRead => "union_events:read",
    }
);

/// A space-separated scope list (RFC 6749 §3.3) as a set; `None` on an unknown scope.
pub fn parse_scopes(raw: &str) -> Option<Vec<Scope>> {
    let mut scopes = Vec::new();
    for s in raw.split_whitespace() {
        let scope = Scope::parse(s)?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    Some(scopes)
}

pub fn join_scopes(scopes: &[Scope]) -> String {
    scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = partners)]
pub struct Partner {
    pub id: PartnerId,
    pub union_id: UnionId,
    pub name: String,
    pub client_id: String,
    pub secret_hash: String,
    pub scopes: String,
    pub created_at: NaiveDateTime,
    pub disabled_at: Option<NaiveDateTime>,
}

impl Partner {
    pub fn scopes(&self) -> Vec<Scope> {
        parse_scopes(&self.scopes).unwrap_or_default()
    }
}

fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn random(prefix: &str, bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(buf))
}

/// Creates a partner; returns it with its secret (shown once).
pub fn create(
    conn: &mut DbConnection,
    union: &UnionId,
    name: &str,
    scopes: &[Scope],
    by: &UserId,
    now: NaiveDateTime,
) -> QueryResult<(Partner, String)> {
    let id = PartnerId::generate();
    let secret = random("zjs_", 32);
    diesel::insert_into(partners::table)
        .values((
            partners::id.eq(&id),
            partners::union_id.eq(union),
            partners::name.eq(name),
            partners::client_id.eq(random("zjc_", 12)),
            partners::secret_hash.eq(hash_secret(&secret)),
            partners::scopes.eq(join_scopes(scopes)),
            partners::created_by.eq(by),
            partners::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok((find(conn, &id)?.ok_or(diesel::result::Error::NotFound)?, secret))
}

pub fn find(conn: &mut DbConnection, id: &PartnerId) -> QueryResult<Option<Partner>> {
    partners::table
        .find(id)
        .select(Partner::as_select())
        .first(conn)
        .optional()
}

/// The enabled partner whose `client_id` and secret these are (RFC 6749 §2.3.1).
pub fn authenticate(conn: &mut DbConnection, client_id: &str, secret: &str) -> QueryResult<Option<Partner>> {
    let found: Option<Partner> = partners::table
        .filter(partners::client_id.eq(client_id))
        .select(Partner::as_select())
        .first(conn)
        .optional()?;
    // Compare hashes, whose length is fixed: no early exit that times the secret.
    let given = hash_secret(secret);
    Ok(found.filter(|p| p.disabled_at.is_none() && constant_eq(p.secret_hash.as_bytes(), given.as_bytes())))
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A new secret; the old one stops working at once. Returns it (shown once).
pub fn rotate_secret(conn: &mut DbConnection, id: &PartnerId, now: NaiveDateTime) -> QueryResult<String> {
    let secret = random("zjs_", 32);
    diesel::update(partners::table.find(id))
        .set((
            partners::secret_hash.eq(hash_secret(&secret)),
            partners::secret_rotated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(secret)
}

pub fn disable(conn: &mut DbConnection, id: &PartnerId, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(partners::table.find(id).filter(partners::disabled_at.is_null()))
        .set(partners::disabled_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// Partners of unions under `union_path`, oldest first.
pub fn under(conn: &mut DbConnection, union_path: &str) -> QueryResult<Vec<Partner>> {
    partners::table
        .inner_join(unions::table)
        .filter(unions::path.like(format!("{union_path}%")))
        .order(partners::id.asc())
        .select(Partner::as_select())
        .load(conn)
}

/// Enabled partners, for workers choosing whom to grant.
pub fn enabled(conn: &mut DbConnection) -> QueryResult<Vec<(PartnerId, String)>> {
    partners::table
        .filter(partners::disabled_at.is_null())
        .order(partners::name.asc())
        .select((partners::id, partners::name))
        .load(conn)
}
