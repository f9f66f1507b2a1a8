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
    /// The civil zone people type and read times in (`TIME_ZONE`, default Asia/Shanghai).
    pub time_zone: chrono_tz::Tz,
    /// Peers whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`, default none).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The background jobs and the notification gateway.
    pub jobs: crate::jobs::JobsConfig,
    /// `WEB_DIR`: serve the pages from this folder, read on every request, instead of the
    /// copies built into the binary (for working on the pages; default unset).
    pub web_dir: Option<std::path::PathBuf>,
    /// `ALLOCATION_BATCH_SIZE`: members an allocation reads (and vouchers it may issue) per
    /// transaction (default 500).
    pub allocation_batch_size: usize,
    /// `FAULT_ABORT_AFTER_ALLOCATION_BATCHES`: fault injection for the crash test: the
    /// process aborts right after that many allocation batches commit (default unset;
    /// never set it in service).
    pub fault_abort_after_allocation_batches: Option<u32>,
    /// `METRICS_TOKEN`: a bearer token `GET /metrics` requires (default unset: open, for a
    /// scraper on the private network).
    pub metrics_token: Option<String>,
}

fn jobs_from_env() -> Result<crate::jobs::JobsConfig, String> {
    let defaults = crate::jobs::JobsConfig::default();
    let reminder_hours = match var("REMINDER_HOURS") {
        None => defaults.reminder_hours,
        Some(raw) => raw
            .split(',')
            .map(|h| {
                h.trim()
                    .parse::<u32>()
                    .map_err(|_| format!("REMINDER_HOURS: {h} is not a number of hours"))
            })
            .collect::<Result<_, _>>()?,
    };
    let url = var("NOTIFY_WEBHOOK_URL");
    let secret = var("NOTIFY_WEBHOOK_SECRET");
    if let Some(u) = &url {
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            return Err("NOTIFY_WEBHOOK_URL must be an http(s) URL".into());
        }
        let s = secret
            .as_deref()
            .ok_or("NOTIFY_WEBHOOK_SECRET is required with NOTIFY_WEBHOOK_URL")?;
        crate::outbox::deliver::Endpoint::new(u, s).map_err(|e| format!("NOTIFY_WEBHOOK_SECRET: {e}"))?;
    }
    Ok(crate::jobs::JobsConfig {
        enabled: parsed("JOBS_ENABLED", true)?,
        tick: Duration::from_millis(parsed("JOBS_TICK_MS", 1000)?),
        reminder_hours,
        notify_webhook_url: url,
        notify_webhook_secret: secret,
        retry_base: secs("OUTBOX_RETRY_BASE_SECS", 5)?,
        webhook_allow_private: parsed("WEBHOOK_ALLOW_PRIVATE", false)?,
        // Set from the top-level fields when the application starts.
        allocation: crate::app::allocation::Plan::default(),
    })
}

/// `TRUSTED_PROXIES`: comma-separated addresses or CIDRs (`10.0.0.0/8, 127.0.0.1`).
pub fn parse_trusted_proxies(raw: &str) -> Result<Vec<ipnet::IpNet>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| format!("TRUSTED_PROXIES: {s} is not an address or CIDR"))
        })
        .collect()
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
    /// How allocations run (`ALLOCATION_BATCH_SIZE`, 1–1,000: a batch's multi-row insert
    /// stays far below either database's limit on bound parameters).
    pub fn allocation_plan(&self) -> crate::app::allocation::Plan {
        crate::app::allocation::Plan {
            batch_size: i64::try_from(self.allocation_batch_size.clamp(1, 1000)).unwrap_or(500),
            abort_after_batches: self.fault_abort_after_allocation_batches,
        }
    }

    pub fn from_env() -> Result<Self, String> {
        Ok(Self {
            database_url: DatabaseUrl::parse(var("DATABASE_URL").as_deref())?,
            web_dir: var("WEB_DIR").map(std::path::PathBuf::from),
            allocation_batch_size: parsed("ALLOCATION_BATCH_SIZE", 500)?,
            metrics_token: var("METRICS_TOKEN")
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty()),
            fault_abort_after_allocation_batches: var("FAULT_ABORT_AFTER_ALLOCATION_BATCHES")
                .map(|n| {
                    n.trim()
                        .parse()
                        .map_err(|_| format!("FAULT_ABORT_AFTER_ALLOCATION_BATCHES: {n} is not a count"))
                })
                .transpose()?,
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
                login_phone_max_attempts: parsed("LOGIN_PHONE_MAX_ATTEMPTS", 50)?,
                login_window: secs("LOGIN_WINDOW_SECS", 900)?,
                auth_address_max: parsed("AUTH_ADDRESS_MAX", 30)?,
                auth_address_window: secs("AUTH_ADDRESS_WINDOW_SECS", 60)?,
                // About what the hashing threads finish per second (argon2 at OWASP
                // parameters takes tens of milliseconds), so a flood is refused, not queued.
                auth_global_max: parsed("AUTH_GLOBAL_MAX", 20 * u64::try_from(cpus()).unwrap_or(2))?,
                // A station's Wi-Fi or a carrier's NAT puts many workers behind one address,
                // and a refresh hashes nothing (one short transaction).
                refresh_address_max: parsed("REFRESH_ADDRESS_MAX", 600)?,
                refresh_global_max: parsed("REFRESH_GLOBAL_MAX", 500 * u64::try_from(cpus()).unwrap_or(2))?,
                refresh_retry_grace: secs("REFRESH_RETRY_GRACE_SECS", 30)?,
                session_idle: secs("SESSION_IDLE_SECS", 30 * DAY)?,
                session_absolute: secs("SESSION_ABSOLUTE_SECS", 90 * DAY)?,
                code_guess_max: parsed("CODE_GUESS_MAX", 30)?,
                code_guess_window: secs("CODE_GUESS_WINDOW_SECS", 600)?,
                partner_rate_max: parsed("PARTNER_RATE_MAX", 600)?,
            },
            log_json: var("LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json")),
            time_zone: match var("TIME_ZONE") {
                None => crate::domain::civil::DEFAULT_ZONE,
                Some(z) => z
                    .trim()
                    .parse()
                    .map_err(|_| format!("TIME_ZONE: {z} is not an IANA zone (e.g. Asia/Shanghai)"))?,
            },
            trusted_proxies: parse_trusted_proxies(&var("TRUSTED_PROXIES").unwrap_or_default())?,
            jobs: jobs_from_env()?,
        })
    }

    /// Defaults with a given database: what tests and tools start from.
    pub fn with_database(database_url: DatabaseUrl) -> Self {
        Self {
            database_url,
            web_dir: None,
            allocation_batch_size: 500,
            metrics_token: None,
            fault_abort_after_allocation_batches: None,
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
                login_phone_max_attempts: 50,
                login_window: Duration::from_secs(900),
                // Tests sign in hundreds of times from 127.0.0.1; the throttling tests
                // lower these on purpose.
                auth_address_max: 100_000,
                auth_address_window: Duration::from_secs(60),
                auth_global_max: 100_000,
                refresh_address_max: 100_000,
                refresh_global_max: 100_000,
                refresh_retry_grace: Duration::from_secs(30),
                session_idle: Duration::from_secs(30 * DAY),
                session_absolute: Duration::from_secs(90 * DAY),
                code_guess_max: 30,
                code_guess_window: Duration::from_secs(600),
                partner_rate_max: 100_000,
            },
            log_json: false,
            time_zone: crate::domain::civil::DEFAULT_ZONE,
            trusted_proxies: Vec::new(),
            // Tests see background work within a fraction of a second.
            jobs: crate::jobs::JobsConfig {
                tick: Duration::from_millis(200),
                retry_base: Duration::from_millis(200),
                // Tests' receivers listen on 127.0.0.1.
                webhook_allow_private: true,
                ..crate::jobs::JobsConfig::default()
            },
        }
    }
}

const DAY: u64 = 24 * 60 * 60;

fn secs(name: &str, default: u64) -> Result<Duration, String> {
    parsed(name, default).map(Duration::from_secs)
}

/// Throttles, grace periods and lifetimes, each from its environment variable (see the
/// README, "Configuration").
#[derive(Debug, Clone)]
pub struct Limits {
    /// Failed sign-ins per (phone, client address) within `login_window` before that
    /// pair is answered 429: a stranger elsewhere cannot lock the owner out.
    pub login_max_attempts: u64,
    /// Failed sign-ins per phone from all addresses within `login_window`: the ceiling
    /// against one phone guessed from many addresses.
    pub login_phone_max_attempts: u64,
    pub login_window: Duration,
    /// Sign-in, registration, password and token requests per client address within
    /// `auth_address_window`, counted before any password or secret is hashed.
    pub auth_address_max: u64,
    pub auth_address_window: Duration,
    /// The same requests from everyone to this instance, per second: the guard of its
    /// hashing threads, so each instance counts its own.
    pub auth_global_max: u64,
    /// Refreshes per client address within `auth_address_window`.
    pub refresh_address_max: u64,
    /// Refreshes from everyone to this instance, per second.
    pub refresh_global_max: u64,
    /// How long a just-used refresh token may be presented again (lost answers, two
    /// calls from one phone at once).
    pub refresh_retry_grace: Duration,
    /// A session not refreshed for this long ends.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, however active.
    pub session_absolute: Duration,
    /// Unknown-code lookups and redemptions per counter account within `code_guess_window`
    /// before 429.
    pub code_guess_max: u64,
    pub code_guess_window: Duration,
    /// Calls one partner may make to the partner API (and token requests per client) per
    /// minute.
    pub partner_rate_max: u64,
}
