//! What every handler can reach.

use std::time::Duration;

use crate::auth::jwt::JwtKeys;
use crate::auth::password::PasswordHasher;
use crate::db::DbPool;
use crate::domain::voucher_code::VoucherKeys;
use crate::locks::Locks;

pub struct AppState {
    pub pool: DbPool,
    pub locks: Locks,
    pub hasher: PasswordHasher,
    pub jwt: JwtKeys,
    pub voucher_keys: VoucherKeys,
    pub limits: Limits,
    pub openapi_json: String,
}

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
