//! Budgets that run before any password is hashed (contract v1.1, "Sessions,
//! throttling and secrets"): per client address and globally for every sign-in,
//! registration and refresh, and failed sign-ins per (phone, address) and per phone.
//!
//! The per-address and per-phone budgets are counted in Redis, so every instance counts
//! together. The global ones are each instance's own, in-process: they guard that
//! instance's hashing threads (and, for refreshes, its share of the database), so a fleet
//! of twenty instances admits twenty times as much, and no single Redis key takes every
//! sign-in of a province.
//!
//! Each budget counts the request first and then decides (an atomic increment in Redis
//! or under the in-process mutex), so simultaneous requests cannot all slip under a
//! limit read before any of them was counted. Rate-limit keys never hold a phone number
//! or an address in the clear.

use std::net::IpAddr;

use actix_web::HttpRequest;
use sha2::{Digest, Sha256};

use crate::domain::ids::UserId;
use crate::domain::phone::Phone;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// The client's address: the TCP peer, unless the peer is a trusted proxy; then the
/// right-most address of `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_ip(req: &HttpRequest, trusted: &[ipnet::IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .or(forwarded.first())
        .copied()
        .or(Some(peer))
}

fn digest_key(kind: &str, parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
        h.update([0]);
    }
    format!("rl:{kind}:{}", hex::encode(&h.finalize()[..12]))
}

fn limited(resets_in: std::time::Duration) -> ApiError {
    ApiError::new(ErrorCode::RateLimited)
        .with_detail("请求过于频繁，请稍后再试")
        .retry_after(resets_in.as_secs())
}

/// Counts one hit on `key`; `Err(429)` past `max`. An unreachable limiter lets the
/// request through (logged): throttling must not take sign-in down with Redis.
async fn count(state: &AppState, key: &str, window: std::time::Duration, max: u64) -> Result<(), ApiError> {
    match state.locks.hit(key, window).await {
        Ok(hits) if hits.count > max => Err(limited(hits.resets_in)),
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::warn!(error = %e, "rate limiter unavailable");
            Ok(())
        }
    }
}

/// Counts one hit on this instance's own `key` (one-second window); `Err(429)` past `max`.
fn count_here(state: &AppState, key: &str, max: u64) -> Result<(), ApiError> {
    let hits = state.own_budgets.hit(key, std::time::Duration::from_secs(1));
    if hits.count > max {
        return Err(limited(hits.resets_in));
    }
    Ok(())
}

/// The budget of requests that may hash a password or a client secret (sign-in,
/// registration, password changes and resets, partner tokens): per client address
/// (`AUTH_ADDRESS_MAX`), then this instance's (`AUTH_GLOBAL_MAX` a second). The address
/// is counted first, so one flooding address cannot spend everyone's second. Returns the
/// client address for the per-phone budgets.
pub async fn auth_budget(state: &AppState, req: &HttpRequest) -> Result<Option<IpAddr>, ApiError> {
    let ip = client_ip(req, &state.trusted_proxies);
    let l = &state.limits;
    if let Some(ip) = ip {
        let key = digest_key("auth-addr", &[ip.to_string().as_bytes()]);
        count(state, &key, l.auth_address_window, l.auth_address_max).await?;
    }
    count_here(state, "auth-global", l.auth_global_max)?;
    Ok(ip)
}

/// The budget of token refreshes: per client address (`REFRESH_ADDRESS_MAX` per
/// `AUTH_ADDRESS_WINDOW_SECS`), then this instance's (`REFRESH_GLOBAL_MAX` a second).
/// Apart from the sign-in budgets: a refresh hashes nothing, the workers behind one
/// station's Wi-Fi or one carrier's NAT share an address, and on launch morning nearly
/// every worker opening the app refreshes first (docs/capacity.md, "Sign-ins").
pub async fn refresh_budget(state: &AppState, req: &HttpRequest) -> Result<(), ApiError> {
    let l = &state.limits;
    if let Some(ip) = client_ip(req, &state.trusted_proxies) {
        let key = digest_key("refresh-addr", &[ip.to_string().as_bytes()]);
        count(state, &key, l.auth_address_window, l.refresh_address_max).await?;
    }
    count_here(state, "refresh-global", l.refresh_global_max)
}

/// A sign-in attempt counted against its (phone, address) and phone budgets.
pub struct LoginAttempt {
    pair_key: String,
    phone_key: String,
}

/// Counts the attempt before the password is checked: 429 once this address failed too
/// often for this phone, or everyone together failed too often for it.
pub async fn login_attempt(
    state: &AppState,
    phone: &Phone,
    ip: Option<IpAddr>,
) -> Result<LoginAttempt, ApiError> {
    let addr = ip.map(|ip| ip.to_string()).unwrap_or_default();
    let attempt = LoginAttempt {
        pair_key: digest_key("login-pair", &[phone.as_str().as_bytes(), addr.as_bytes()]),
        phone_key: digest_key("login-phone", &[phone.as_str().as_bytes()]),
    };
    let l = &state.limits;
    count(state, &attempt.pair_key, l.login_window, l.login_max_attempts).await?;
    count(
        state,
        &attempt.phone_key,
        l.login_window,
        l.login_phone_max_attempts,
    )
    .await?;
    Ok(attempt)
}

/// The password matched: this address starts afresh and the phone's count gets this
/// attempt back (only failures stay counted).
pub async fn login_succeeded(state: &AppState, attempt: LoginAttempt) {
    if let Err(e) = state.locks.clear(&attempt.pair_key).await {
        tracing::warn!(error = %e, "could not reset the login limiter");
    }
    if let Err(e) = state.locks.refund(&attempt.phone_key).await {
        tracing::warn!(error = %e, "could not reset the login limiter");
    }
}

/// The guess budget of a counter account's voucher-code lookups and redemptions.
pub fn code_guess_key(counter: &UserId) -> String {
    format!("rl:code:{counter}")
}

/// The guess budget of a counter account's join codes (8 digits: as guessable as a code is
/// not, so the same budget guards them).
pub fn join_guess_key(counter: &UserId) -> String {
    format!("rl:join:{counter}")
}

/// Reserves one guess before the code is looked at (contract v1.1, "Counter answers for
/// people"). The count rises atomically first, so of any number of simultaneous lookups
/// by one counter account at most `CODE_GUESS_MAX` in the window are evaluated, and the
/// rest — the ones in flight when the limit was reached included — answer 429. A code
/// that names a voucher gives its reservation back ([`refund_guess`]): only misses stay
/// counted, so a day of honest scanning never runs out while typos and guesses do.
/// Counted per instance while Redis is unreachable (see `locks`).
pub async fn reserve_guess(state: &AppState, key: &str) -> Result<(), ApiError> {
    match state.locks.hit(key, state.limits.code_guess_window).await {
        Ok(hits) => judge_guess(state, hits),
        Err(e) => {
            tracing::warn!(error = %e, "code-guess limiter unavailable");
            Ok(())
        }
    }
}

/// A reservation's verdict from the budget's count after it (see [`reserve_guess`]): 429
/// with `Retry-After` beyond `CODE_GUESS_MAX`.
pub fn judge_guess(state: &AppState, hits: crate::locks::Hits) -> Result<(), ApiError> {
    if hits.count > state.limits.code_guess_max {
        return Err(ApiError::new(ErrorCode::RateLimited)
            .with_detail("输错的次数过多，请核对后稍后再试")
            .retry_after(hits.resets_in.as_secs()));
    }
    Ok(())
}

/// The code named a voucher: its reservation is not a guess.
pub async fn refund_guess(state: &AppState, key: &str) {
    if let Err(e) = state.locks.refund(key).await {
        tracing::warn!(error = %e, "code-guess limiter unavailable");
    }
}

/// A partner's calls to the partner API per minute (`PARTNER_RATE_MAX`).
pub async fn partner_budget(
    state: &AppState,
    partner: &crate::domain::ids::PartnerId,
) -> Result<(), ApiError> {
    let key = format!("rl:partner:{partner}");
    count(
        state,
        &key,
        std::time::Duration::from_secs(60),
        state.limits.partner_rate_max,
    )
    .await
}

/// Token requests per `client_id` per minute (`PARTNER_RATE_MAX`), before the secret is checked.
pub async fn client_budget(state: &AppState, client_id: &str) -> Result<(), ApiError> {
    let key = digest_key("oauth-client", &[client_id.as_bytes()]);
    count(
        state,
        &key,
        std::time::Duration::from_secs(60),
        state.limits.partner_rate_max,
    )
    .await
}

/// Password-reset requests and confirmations per phone (`what` keeps the two apart):
/// five codes and ten confirmations an hour, so nobody floods a phone with codes or works
/// through guesses (each code also retires after five wrong tries).
pub async fn reset_budget(state: &AppState, what: &str, phone: &Phone) -> Result<(), ApiError> {
    let key = digest_key("reset", &[what.as_bytes(), phone.as_str().as_bytes()]);
    let max = if what == "send" { 5 } else { 10 };
    count(state, &key, std::time::Duration::from_secs(3600), max).await
}
