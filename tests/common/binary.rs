//! The `zhijian` binary pointed at a test app's database, for the command-line tests.
#![allow(dead_code)]

use std::process::{Command, Stdio};

use zhijian::db::DatabaseUrl;

/// A `zhijian` command with a clean environment: the app's database, keys and Redis.
pub fn zhijian(config: &zhijian::config::Config) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zhijian"));
    let url = match &config.database_url {
        DatabaseUrl::Postgres(url) => url.clone(),
        DatabaseUrl::Sqlite(path) => path.clone(),
    };
    cmd.env_clear()
        .env("DATABASE_URL", url)
        .env(
            "JWT_SECRET",
            config.jwt_secret.as_deref().unwrap_or(super::TEST_JWT_SECRET),
        )
        .env(
            "VOUCHER_KEY",
            config.voucher_key.as_deref().unwrap_or(super::TEST_VOUCHER_KEY),
        )
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    if let Some(redis) = &config.redis_url {
        cmd.env("REDIS_URL", redis)
            .env("REDIS_KEY_PREFIX", &config.redis_key_prefix);
    }
    cmd
}
