//! `zhijian seed-demo`: a small demo world. Safe to run twice: what exists is kept.

use anyhow::Context;

use crate::auth::password::PasswordHasher;
use crate::db::{self, DbConnection, DbPool};
use crate::domain::now;
use crate::domain::phone::Phone;
use crate::domain::profile::{Occupation, Role};
use crate::domain::users::{self, CreateUserError, NewUser};

pub const DEMO_PASSWORD: &str = "zhijian-demo";

struct DemoAccount {
    phone: &'static str,
    name: &'static str,
    role: Role,
    occupation: Option<Occupation>,
    region: Option<&'static str>,
}

const fn worker(phone: &'static str, name: &'static str, occupation: Occupation) -> DemoAccount {
    DemoAccount {
        phone,
        name,
        role: Role::Worker,
        occupation: Some(occupation),
        region: Some("331004"),
    }
}

const ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        phone: "13900000000",
        name: "平台管理员",
        role: Role::PlatformAdmin,
        occupation: None,
        region: None,
    },
    worker("13800000001", "王小明", Occupation::FoodDelivery),
    worker("13800000002", "李建国", Occupation::Courier),
    worker("13800000003", "张伟", Occupation::RideHailing),
    worker("13800000004", "刘芳", Occupation::TruckDriver),
    worker("13800000005", "陈静", Occupation::Sanitation),
];

/// Creates the account unless the phone is taken; true when created.
fn ensure_account(
    conn: &mut DbConnection,
    account: &DemoAccount,
    password_hash: &str,
) -> anyhow::Result<bool> {
    let phone = Phone::parse(account.phone).context("demo phone")?;
    let mut user = NewUser::new(
        phone,
        password_hash.to_owned(),
        account.name.to_owned(),
        account.role,
        now(),
    );
    user.occupation = account.occupation.map(|o| o.as_str().to_owned());
    user.region_code = account.region.map(str::to_owned);
    match users::create(conn, &user) {
        Ok(()) => Ok(true),
        Err(CreateUserError::PhoneTaken) => Ok(false),
        Err(CreateUserError::Database(e)) => Err(e.into()),
    }
}

pub async fn run(pool: DbPool) -> anyhow::Result<()> {
    let hash = PasswordHasher::new(1)
        .map_err(anyhow::Error::msg)?
        .hash(DEMO_PASSWORD.to_owned())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let created = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<bool>> {
        let mut conn = pool.get()?;
        db::write_tx(&mut conn, |conn| {
            ACCOUNTS.iter().map(|a| ensure_account(conn, a, &hash)).collect()
        })
    })
    .await??;
    println!("Demo logins (password for all: {DEMO_PASSWORD}):");
    for (account, new) in ACCOUNTS.iter().zip(created) {
        let note = if new { "created" } else { "already there" };
        println!(
            "  {:<15} {}  {}  ({note})",
            account.role.as_str(),
            account.phone,
            account.name
        );
    }
    Ok(())
}
