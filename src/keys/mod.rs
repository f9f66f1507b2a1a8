//! The service's two secrets (contract v1.1, "Sessions, throttling and secrets").
//!
//! `JWT_SECRET` signs access tokens; `VOUCHER_KEY` derives every voucher code from its
//! voucher id. Both come from the environment, or in SQLite mode are generated once into
//! files beside the database (mode 0600) — never into the database, so a copy of the
//! database file alone mints no token and redeems no code. The database records only a
//! fingerprint of each (a one-way hash), and a start with a different key is refused:
//! with another `VOUCHER_KEY` every issued code would silently change.

use std::path::Path;

pub mod rotation;

use anyhow::{bail, Context};
use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::db::schema::app_settings;
use crate::db::{DatabaseUrl, DbConnection};

/// A secret with the environment variable that names it, for messages.
#[derive(Clone, Copy, Debug)]
pub enum Secret {
    JwtSecret,
    VoucherKey,
}

impl Secret {
    pub fn var(self) -> &'static str {
        match self {
            Self::JwtSecret => "JWT_SECRET",
            Self::VoucherKey => "VOUCHER_KEY",
        }
    }
    fn file_suffix(self) -> &'static str {
        match self {
            Self::JwtSecret => ".jwt-key",
            Self::VoucherKey => ".voucher-key",
        }
    }
    fn setting(self) -> &'static str {
        match self {
            Self::JwtSecret => "jwt_secret_fingerprint",
            Self::VoucherKey => "voucher_key_fingerprint",
        }
    }
}

/// A one-way fingerprint of a key: enough to tell two keys apart, useless to forge one.
pub fn fingerprint(key: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"zhijian key fingerprint v1\0");
    h.update(key);
    hex::encode(&h.finalize()[..16])
}

/// Where a key comes from, for the start-up log (never the key).
pub fn source(config: &Config, which: Secret) -> String {
    let given = match which {
        Secret::JwtSecret => config.jwt_secret.is_some(),
        Secret::VoucherKey => config.voucher_key.is_some(),
    };
    match &config.database_url {
        _ if given => format!("{} (environment)", which.var()),
        DatabaseUrl::Sqlite(path) => format!("file {path}{}", which.file_suffix()),
        DatabaseUrl::Postgres(_) => "missing".to_owned(),
    }
}

/// The key from the environment, or (SQLite only) the one generated beside the database.
pub fn resolve(config: &Config, which: Secret) -> anyhow::Result<Vec<u8>> {
    let given = match which {
        Secret::JwtSecret => config.jwt_secret.as_deref(),
        Secret::VoucherKey => config.voucher_key.as_deref(),
    };
    if let Some(key) = given {
        if key.len() < 32 {
            bail!("{} must be at least 32 bytes", which.var());
        }
        return Ok(key.as_bytes().to_vec());
    }
    let DatabaseUrl::Sqlite(db_path) = &config.database_url else {
        bail!(
            "{} is required with PostgreSQL (generate one with `openssl rand -hex 32` and keep it)",
            which.var()
        );
    };
    key_file(&format!("{db_path}{}", which.file_suffix()))
}

/// Reads the key kept in `path`, creating it (mode 0600, 32 random bytes as hex) first
/// if there is none; of two processes starting at once, the first writer wins.
fn key_file(path: &str) -> anyhow::Result<Vec<u8>> {
    let mut fresh = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut fresh);
    write_new_0600(path, hex::encode(fresh).as_bytes())?;
    let key = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    if key.trim().len() < 32 {
        bail!("{path} holds no usable key");
    }
    Ok(key.trim().as_bytes().to_vec())
}

/// Creates `path` with mode 0600 holding `content`; leaves an existing file alone.
fn write_new_0600(path: &str, content: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            std::io::Write::write_all(&mut file, content).with_context(|| format!("cannot write {path}"))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot create {path}")),
    }
}

/// Before SQLite opens it: the database file exists with mode 0600 (SQLite gives its
/// `-wal` and `-shm` files the database file's mode), and older files are tightened.
pub fn protect_sqlite_files(db_path: &str) -> anyhow::Result<()> {
    if db_path == ":memory:" {
        return Ok(());
    }
    write_new_0600(db_path, b"")?;
    #[cfg(unix)]
    for suffix in ["", "-wal", "-shm"] {
        use std::os::unix::fs::PermissionsExt;
        let path = format!("{db_path}{suffix}");
        if Path::new(&path).exists() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("cannot restrict {path} to mode 0600"))?;
        }
    }
    Ok(())
}

/// Records the key's fingerprint on first start; refuses a different key later.
pub fn check(conn: &mut DbConnection, which: Secret, key: &[u8]) -> anyhow::Result<()> {
    let mine = fingerprint(key);
    // Insert-if-absent, then read: of two first starts, whoever wrote first decides.
    let _ = diesel::insert_into(app_settings::table)
        .values((
            app_settings::key.eq(which.setting()),
            app_settings::value.eq(&mine),
        ))
        .execute(conn);
    let recorded: String = app_settings::table
        .find(which.setting())
        .select(app_settings::value)
        .first(conn)?;
    if recorded != mine {
        bail!(
            "{var} differs from the key this database was started with (fingerprint {recorded}, \
             given {mine}). Refusing to serve: {why}. Start with the original {var}, or rotate \
             deliberately with `zhijian rotate-keys` (README: \"Keys and rotation\").",
            var = which.var(),
            why = match which {
                Secret::VoucherKey => "every issued voucher code would silently change",
                Secret::JwtSecret => "every signed-in phone and counter would be signed out",
            }
        );
    }
    Ok(())
}

/// Replaces a generated key file's content (mode 0600, written beside and renamed over,
/// so a crash leaves the old file or the new one, never half of one).
fn write_key_file(db_path: &str, which: Secret, key: &str) -> anyhow::Result<()> {
    let path = format!("{db_path}{}", which.file_suffix());
    let fresh = format!("{path}.new");
    let _ = std::fs::remove_file(&fresh);
    write_new_0600(&fresh, key.as_bytes())?;
    std::fs::rename(&fresh, &path).with_context(|| format!("cannot replace {path}"))
}

/// Replaces the recorded fingerprint: the last step of a deliberate rotation.
pub fn record(conn: &mut DbConnection, which: Secret, key: &[u8]) -> QueryResult<()> {
    diesel::update(app_settings::table.find(which.setting()))
        .set(app_settings::value.eq(fingerprint(key)))
        .execute(conn)?;
    Ok(())
}

/// Earlier versions kept the generated signing key inside the SQLite database; it moves
/// to its file (so signed-in sessions survive) and leaves the database.
pub fn move_legacy_jwt_secret(conn: &mut DbConnection, db_path: &str) -> anyhow::Result<()> {
    let legacy: Option<String> = app_settings::table
        .find("jwt_secret")
        .select(app_settings::value)
        .first(conn)
        .optional()?;
    if let Some(secret) = legacy {
        write_new_0600(
            &format!("{db_path}{}", Secret::JwtSecret.file_suffix()),
            secret.as_bytes(),
        )?;
        diesel::delete(app_settings::table.find("jwt_secret")).execute(conn)?;
    }
    Ok(())
}
