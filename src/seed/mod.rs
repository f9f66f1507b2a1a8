//! `zhijian seed-demo`: a small demo world. Safe to run twice: what exists is kept.

use crate::auth::password::PasswordHasher;
use crate::db::{self, DbPool};
use crate::domain::now;
use crate::domain::phone::Phone;

mod handouts;
mod world;
use crate::domain::ids::UserId;
use crate::domain::profile::{Password, PersonName, Role};
use crate::domain::users::{self, CreateUserError, NewUser};

pub const DEMO_PASSWORD: &str = "zhijian-demo";

/// Creates a `platform_admin` (the CLI's `create-admin`).
pub async fn create_platform_admin(
    pool: DbPool,
    phone: Phone,
    password: &Password,
    name: PersonName,
) -> anyhow::Result<UserId> {
    let hash = PasswordHasher::new(1)
        .map_err(anyhow::Error::msg)?
        .hash(password.expose().to_owned())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let admin = NewUser::new(phone, hash, name.into_string(), Role::PlatformAdmin, now());
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        match db::write_tx(&mut conn, |conn| {
            Ok::<_, diesel::result::Error>(users::create(conn, &admin))
        })? {
            Ok(()) => Ok(admin.id),
            Err(CreateUserError::PhoneTaken) => anyhow::bail!("that phone is already registered"),
            Err(CreateUserError::Database(e)) => Err(e.into()),
        }
    })
    .await?
}

pub async fn run(pool: DbPool, keys: crate::domain::voucher_code::VoucherKeys) -> anyhow::Result<()> {
    let hash = PasswordHasher::new(1)
        .map_err(anyhow::Error::msg)?
        .hash(DEMO_PASSWORD.to_owned())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let report = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        let mut conn = pool.get()?;
        let mut lines = db::write_tx(&mut conn, |conn| world::build(conn, &hash))?;
        lines.extend(handouts::build(&mut conn, &keys)?);
        Ok(lines)
    })
    .await??;
    println!("Demo world ready. Logins (password for all: {DEMO_PASSWORD}):");
    for line in report {
        println!("  {line}");
    }
    Ok(())
}
