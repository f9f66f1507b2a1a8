//! Configuration, from environment variables only (each is documented in the README).

use std::str::FromStr;
use std::time::Duration;

use crate::db::DatabaseUrl;

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub redis_url: Option<String>,
    pub redis_key_prefix: String,
    pub bind: String,
    pub jwt_secret: Option<String>,
    pub voucher_key: Option<String>,
    pub workers: usize,
    pub db_pool_size: u32,
    pub hash_concurrency: usize,
    pub limits: Limits,
    pub log_json: bool,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parsed<T: FromStr>(name: &str, default: T) -> Result<T, String> {
    match var(name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|_| format!("{name} has an invalid value")),
    }
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

impl Config {
    pub fn from_env() -> Result<Self, String> {
        Ok(Self {
            database_url: DatabaseUrl::parse(var("DATABASE_URL").as_deref())?,
            redis_url: var("REDIS_URL"),
            redis_key_prefix: var("REDIS_KEY_PREFIX").unwrap_or_else(|| "zhijian:".into()),
            bind: var("BIND").unwrap_or_else(|| "127.0.0.1:8080".into()),
            jwt_secret: var("JWT_SECRET"),
            voucher_key: var("VOUCHER_KEY"),
            workers: parsed("WORKERS", cpus())?,
            db_pool_size: parsed("DB_POOL_SIZE", 16)?,
            hash_concurrency: parsed("HASH_CONCURRENCY", cpus())?,
            limits: Limits {
                login_max_attempts: parsed("LOGIN_MAX_ATTEMPTS", 5)?,
                login_window: Duration::from_secs(parsed("LOGIN_WINDOW_SECS", 900)?),
                refresh_retry_grace: Duration::from_secs(parsed("REFRESH_RETRY_GRACE_SECS", 30)?),
                code_guess_max: parsed("CODE_GUESS_MAX", 10)?,
                code_guess_window: Duration::from_secs(parsed("CODE_GUESS_WINDOW_SECS", 600)?),
            },
            log_json: var("LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json")),
        })
    }

    /// Defaults with a given database: what tests and tools start from.
    pub fn with_database(database_url: DatabaseUrl) -> Self {
        Self {
            database_url,
            redis_url: None,
            redis_key_prefix: "zhijian:".into(),
            bind: "127.0.0.1:0".into(),
            jwt_secret: None,
            voucher_key: None,
            workers: 2,
            db_pool_size: 8,
            hash_concurrency: 2,
            limits: Limits {
                login_max_attempts: 5,
                login_window: Duration::from_secs(900),
                refresh_retry_grace: Duration::from_secs(30),
                code_guess_max: 10,
                code_guess_window: Duration::from_secs(600),
            },
            log_json: false,
        }
    }
}

/// Throttles and grace periods, each from its environment variable (see the README).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Sign-in attempts per phone within `login_window` before 429.
    pub login_max_attempts: u64,
    pub login_window: Duration,
    /// How long a just-used refresh token may be retried (lost response).
    pub refresh_retry_grace: Duration,
    /// Unknown-code lookups and redemptions per counter account within `code_guess_window`
    /// before 429.
    pub code_guess_max: u64,
    pub code_guess_window: Duration,
}
