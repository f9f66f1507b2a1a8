//! What every handler can reach.

use crate::auth::jwt::JwtKeys;
use crate::auth::password::PasswordHasher;
use crate::config::Limits;
use crate::db::DbPool;
use crate::domain::voucher_code::VoucherKeys;
use crate::locks::Locks;

pub struct AppState {
    pub pool: DbPool,
    pub locks: Locks,
    pub hasher: PasswordHasher,
    pub jwt: std::sync::Arc<JwtKeys>,
    pub voucher_keys: VoucherKeys,
    pub limits: Limits,
    /// This instance's own budgets (`http::throttle`'s global ones), never shared.
    pub own_budgets: crate::locks::MemoryLocks,
    /// Peers whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `WEBHOOK_ALLOW_PRIVATE`: webhook URLs may be `http://` and private addresses.
    pub webhook_allow_private: bool,
    pub openapi_json: String,
    /// `WEB_DIR`: pages read from disk instead of the built-in copies.
    pub web_dir: Option<std::path::PathBuf>,
    /// `ALLOCATION_BATCH_SIZE` and the crash test's fault (`app::allocation::Plan`).
    pub allocation_plan: crate::app::allocation::Plan,
    /// What `GET /metrics` shows.
    pub metrics: crate::metrics::Metrics,
    /// `METRICS_TOKEN`: when set, `GET /metrics` wants it as a bearer token.
    pub metrics_token: Option<String>,
    /// Campaigns open for claims, as this instance last read them (first claims).
    pub open_campaigns: std::sync::Arc<crate::app::open_campaigns::OpenCampaigns>,
}
