//! The counter (核销员): look a code up, redeem it exactly once.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::app::redemptions::{self as app, RedeemCommand, RedeemRefusal};
use crate::auth::scope::CounterScope;
use crate::auth::Principal;
use crate::db;
use crate::domain::ids::{StationId, UserId};
use crate::domain::now;
use crate::domain::voucher_code::VoucherCode;
use crate::error::{ApiError, ErrorCode};
use crate::http::idempotent::{self, Ticket};
use crate::state::AppState;
use crate::views::vouchers::{LookupView, RedemptionView};

/// Long enough for one redemption transaction; short enough that a crashed holder
/// blocks the code only briefly. The database fence holds whatever the lock does.
const REDEMPTION_LOCK_TTL: Duration = Duration::from_secs(5);

fn guess_key(counter: &UserId) -> String {
    format!("rl:code:{counter}")
}

/// 429 once a counter has missed too many codes in the window (counted per instance while
/// Redis is unreachable; see `locks`).
async fn guard_guessing(state: &AppState, counter: &UserId) -> Result<(), ApiError> {
    match state.locks.peek(&guess_key(counter)).await {
        Ok(hits) if hits.count >= state.limits.code_guess_max => {
            Err(ApiError::new(ErrorCode::RateLimited).retry_after(hits.resets_in.as_secs()))
        }
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::warn!(error = %e, "code-guess limiter unavailable");
            Ok(())
        }
    }
}

/// Counts a miss and answers it: "not found", or 429 past the threshold.
async fn miss(state: &AppState, counter: &UserId) -> ApiError {
    match state
        .locks
        .hit(&guess_key(counter), state.limits.code_guess_window)
        .await
    {
        Ok(hits) if hits.count > state.limits.code_guess_max => {
            ApiError::new(ErrorCode::RateLimited).retry_after(hits.resets_in.as_secs())
        }
        Ok(_) => ErrorCode::VoucherNotFound.into(),
        Err(e) => {
            tracing::warn!(error = %e, "code-guess limiter unavailable");
            ErrorCode::VoucherNotFound.into()
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupBody {
    code: VoucherCode,
    /// The station the counter is serving at; defaults to any of its stations.
    #[serde(default)]
    station_id: Option<StationId>,
}

pub async fn lookup(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<LookupBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    guard_guessing(&state, &principal.user_id).await?;
    let (keys, counter) = (state.voucher_keys.clone(), principal.user_id.clone());
    let found = db::run(&state.pool, move |conn| {
        let here = CounterScope::load(conn, &principal)?.serving(body.station_id.as_ref())?;
        Ok::<_, ApiError>(app::look_up(conn, &keys, &body.code, &here, now())?)
    })
    .await?;
    match found {
        Some(found) => Ok(HttpResponse::Ok().json(LookupView::from(found))),
        None => Err(miss(&state, &counter).await),
    }
}

fn terminal_id(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    req.headers()
        .get("X-Terminal-Id")
        .map(|v| {
            v.to_str()
                .ok()
                .filter(|t| (1..=64).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_graphic()))
                .map(str::to_owned)
                .ok_or_else(|| ApiError::invalid("X-Terminal-Id must be 1-64 visible ASCII characters"))
        })
        .transpose()
}

/// Lock (so a second counter is told "in progress" rather than racing), then the
/// database fence in one transaction with the redemption record and the idempotent
/// answer. If the lock service is down, the fence alone decides: never twice, never a hang.
pub async fn redeem(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: web::Json<RedeemCommand>,
) -> Result<HttpResponse, ApiError> {
    let cmd = body.into_inner();
    let terminal = terminal_id(&req)?;
    let key = idempotent::key(&req)?;
    let hash = idempotent::fingerprint(&req, &[], &cmd)?;
    let (st, who) = (state.clone(), principal.user_id.clone());
    let work = move |ticket| redeem_once(st, principal, cmd, terminal, ticket);
    idempotent::run(&state, &who, key, hash, |stored| stored, work).await
}

/// One attempt: guess limit, the checks before the lock, the lock, the fence.
async fn redeem_once(
    st: web::Data<AppState>,
    principal: Principal,
    cmd: RedeemCommand,
    terminal: Option<String>,
    ticket: Option<Ticket>,
) -> Result<(StatusCode, String), ApiError> {
    let me = principal.user_id.clone();
    guard_guessing(&st, &me).await?;
    let (keys, checked) = (st.voucher_keys.clone(), cmd.clone());
    let prechecked = db::run(&st.pool, move |conn| {
        let scope = CounterScope::load(conn, &principal)?;
        Ok::<_, ApiError>(app::precheck(conn, &scope, &keys, &checked, now()))
    })
    .await?;
    let voucher = match prechecked {
        Ok(voucher) => voucher,
        Err(RedeemRefusal::UnknownCode) => return Err(miss(&st, &me).await),
        Err(refusal) => return Err(refusal.into()),
    };
    let lock_key = format!("lock:redeem:{}", voucher.id);
    let lease = match st.locks.try_acquire(&lock_key, REDEMPTION_LOCK_TTL).await {
        Ok(Some(lease)) => Some(lease),
        Ok(None) => return Err(ErrorCode::RedemptionInProgress.into()),
        Err(e) => {
            tracing::warn!(error = %e, "redemption lock unavailable; the database fence decides alone");
            None
        }
    };
    let result = db::transaction(&st.pool, move |conn| {
        let redemption = app::redeem(conn, &voucher, &cmd, &me, terminal.as_deref(), now())?;
        let answer = serde_json::to_string(&RedemptionView::from(redemption)).map_err(ApiError::internal)?;
        if let Some(ticket) = &ticket {
            ticket.complete(conn, StatusCode::CREATED, &answer)?;
        }
        Ok((StatusCode::CREATED, answer))
    })
    .await;
    if let Some(lease) = lease {
        if let Err(e) = st.locks.release(&lease).await {
            tracing::warn!(error = %e, "could not release a redemption lock; it expires on its own");
        }
    }
    result
}
