//! `zhijian rotate-keys`: replacing a leaked or retired key on purpose (README, "Keys
//! and rotation"). Run with every instance stopped: a running instance still holding
//! the old key would derive the old codes (and, restarted with it, refuses to serve).

use anyhow::{bail, Context};
use diesel::prelude::*;

use super::{check, record, resolve, write_key_file, Secret};
use crate::config::Config;
use crate::db::schema::vouchers;
use crate::db::{self, DatabaseUrl, DbConnection};
use crate::domain::ids::VoucherId;
use crate::domain::voucher_code::VoucherKeys;

/// Vouchers re-hashed per statement batch (all inside one transaction).
const BATCH: i64 = 1_000;

/// What a rotation changed, for the operator.
#[derive(Debug, Default)]
pub struct Rotated {
    pub vouchers_rekeyed: u64,
    pub jwt_secret: bool,
}

/// Replaces `VOUCHER_KEY` with `new_voucher_key` and/or `JWT_SECRET` with `new_jwt_secret`.
///
/// The current keys must match the recorded fingerprints. A new voucher key re-derives
/// every voucher's code and stores its lookup hash in one transaction, so either every
/// code changes or none does (workers' wallets show the new codes at once; a printed or
/// photographed old code stops working). A new signing secret only needs its
/// fingerprint: sessions survive, access tokens signed with the old secret are refused
/// and phones refresh them. In SQLite mode with generated keys, the key files are
/// rewritten; otherwise the operator sets the new values in the environment.
pub fn rotate(
    config: &Config,
    conn: &mut DbConnection,
    new_voucher_key: Option<&str>,
    new_jwt_secret: Option<&str>,
) -> anyhow::Result<Rotated> {
    let old_voucher = resolve(config, Secret::VoucherKey)?;
    check(conn, Secret::VoucherKey, &old_voucher)?;
    check(conn, Secret::JwtSecret, &resolve(config, Secret::JwtSecret)?)?;
    for (new, which) in [
        (new_voucher_key, Secret::VoucherKey),
        (new_jwt_secret, Secret::JwtSecret),
    ] {
        if new.is_some_and(|k| k.len() < 32) {
            bail!("the new {} must be at least 32 bytes", which.var());
        }
    }
    let mut done = Rotated::default();
    db::write_tx(conn, |conn| -> anyhow::Result<()> {
        if let Some(new) = new_voucher_key {
            let new_keys = VoucherKeys::new(new.as_bytes());
            done.vouchers_rekeyed = rekey_vouchers(conn, &new_keys)?;
            // Audit entries are signed with this key too (domain/audit.rs).
            crate::domain::audit::resign(conn, &VoucherKeys::new(&old_voucher), &new_keys)?;
            record(conn, Secret::VoucherKey, new.as_bytes())?;
        }
        if let Some(new) = new_jwt_secret {
            record(conn, Secret::JwtSecret, new.as_bytes())?;
            done.jwt_secret = true;
        }
        Ok(())
    })?;
    // Generated key files follow the database (after the commit: a failed rotation
    // leaves the old files, which still match the old fingerprints).
    if let DatabaseUrl::Sqlite(path) = &config.database_url {
        if let (Some(new), None) = (new_voucher_key, &config.voucher_key) {
            write_key_file(path, Secret::VoucherKey, new)
                .context("the database is rotated; write the key file by hand")?;
        }
        if let (Some(new), None) = (new_jwt_secret, &config.jwt_secret) {
            write_key_file(path, Secret::JwtSecret, new)
                .context("the database is rotated; write the key file by hand")?;
        }
    }
    Ok(done)
}

/// Stores every voucher's lookup hash under `keys`, in id order, `BATCH` at a time.
fn rekey_vouchers(conn: &mut DbConnection, keys: &VoucherKeys) -> QueryResult<u64> {
    let mut after: Option<VoucherId> = None;
    let mut done = 0;
    loop {
        let mut page = vouchers::table
            .select(vouchers::id)
            .order(vouchers::id.asc())
            .limit(BATCH)
            .into_boxed();
        if let Some(last) = &after {
            page = page.filter(vouchers::id.gt(last));
        }
        let ids: Vec<VoucherId> = page.load(conn)?;
        let Some(last) = ids.last().cloned() else {
            return Ok(done);
        };
        for id in &ids {
            diesel::update(vouchers::table.find(id))
                .set(vouchers::code_hash.eq(keys.lookup_hash(&keys.code_for(id))))
                .execute(conn)?;
            done += 1;
        }
        after = Some(last);
    }
}
