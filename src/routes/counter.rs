//! The counter (核销员): look a code up, redeem it exactly once.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::idempotent;
use crate::auth::scope::CounterScope;
use crate::auth::Principal;
use crate::db::schema::{campaigns, users};
use crate::db::{self, DbConnection};
use crate::domain::campaigns as campaign_queries;
use crate::domain::ids::{RedemptionId, StationId, UserId, VoucherId};
use crate::domain::phone::{mask_name, Phone};
use crate::domain::redemptions::{self, Redeem, RedeemError};
use crate::domain::voucher_code::VoucherCode;
use crate::domain::vouchers::{self, Voucher};
use crate::domain::{now, utc};
use crate::error::{ApiError, ErrorCode};
use crate::idempotency::request_hash;
use crate::state::AppState;

/// Long enough for one redemption transaction; short enough that a crashed holder
/// blocks the code only briefly. The database fence holds whatever the lock does.
const REDEMPTION_LOCK_TTL: Duration = Duration::from_secs(5);

fn parse_code(raw: &str) -> Result<VoucherCode, ApiError> {
    VoucherCode::parse(raw).ok_or_else(|| {
        ApiError::invalid("code must be 16 letters and digits (XXXX-XXXX-XXXX-XXXX) or a QR payload")
    })
}

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

/// A voucher found by code, with what the counter may see of it.
struct Found {
    voucher: Voucher,
    campaign_title: String,
    item_name: String,
    holder_name: String,
    holder_phone: Phone,
    campaign_stations: Vec<StationId>,
}

fn find_by_code(
    conn: &mut DbConnection,
    state: &AppState,
    code: &VoucherCode,
) -> Result<Option<Found>, ApiError> {
    let Some(voucher) = vouchers::find_by_code_hash(conn, &state.voucher_keys.lookup_hash(code))? else {
        return Ok(None);
    };
    let (campaign_title, item_name): (String, String) = campaigns::table
        .find(&voucher.campaign_id)
        .select((campaigns::title, campaigns::item_name))
        .first(conn)?;
    let (holder_name, holder_phone): (String, Phone) = users::table
        .find(&voucher.user_id)
        .select((users::name, users::phone))
        .first(conn)?;
    let campaign_stations = campaign_queries::station_ids(conn, &voucher.campaign_id)?;
    Ok(Some(Found {
        voucher,
        campaign_title,
        item_name,
        holder_name,
        holder_phone,
        campaign_stations,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupBody {
    code: String,
    /// The station the counter is serving at; defaults to any of its stations.
    #[serde(default)]
    station_id: Option<StationId>,
}

#[derive(Debug, Serialize)]
struct LookupView {
    voucher_id: VoucherId,
    status: String,
    campaign_title: String,
    item_name: String,
    holder_name_masked: String,
    holder_phone_masked: String,
    expires_at: DateTime<Utc>,
    redeemable_here: bool,
    redeemed_at: Option<DateTime<Utc>>,
    redeemed_station_id: Option<StationId>,
}

pub async fn lookup(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<LookupBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let code = parse_code(&body.code)?;
    guard_guessing(&state, &principal.user_id).await?;
    let st = state.clone();
    let counter = principal.user_id.clone();
    let view = db::run(&state.pool, move |conn| {
        let scope = CounterScope::load(conn, &principal)?;
        let here: Vec<StationId> = match body.station_id {
            Some(s) if scope.has_station(&s) => vec![s],
            Some(_) => return Err(ErrorCode::StationNotAllowed.into()),
            None => scope.stations.iter().map(|(s, _, _)| s.clone()).collect(),
        };
        let Some(f) = find_by_code(conn, &st, &code)? else {
            return Ok(None);
        };
        let t = now();
        Ok(Some(LookupView {
            status: f.voucher.status_at(t).to_owned(),
            redeemable_here: f.voucher.status_at(t) == "issued"
                && f.campaign_stations.iter().any(|s| here.contains(s)),
            voucher_id: f.voucher.id,
            campaign_title: f.campaign_title,
            item_name: f.item_name,
            holder_name_masked: mask_name(&f.holder_name),
            holder_phone_masked: f.holder_phone.masked(),
            expires_at: utc(f.voucher.expires_at),
            redeemed_at: f.voucher.redeemed_at.map(utc),
            redeemed_station_id: f.voucher.redeemed_station_id,
        }))
    })
    .await?;
    match view {
        Some(view) => Ok(HttpResponse::Ok().json(view)),
        None => Err(miss(&state, &counter).await),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeemBody {
    code: String,
    station_id: StationId,
}

#[derive(Debug, Serialize)]
pub struct RedemptionView {
    pub id: RedemptionId,
    pub voucher_id: VoucherId,
    pub station_id: StationId,
    pub redeemed_at: DateTime<Utc>,
    pub redeemed_by: UserId,
    pub terminal_id: Option<String>,
    pub reversed_at: Option<DateTime<Utc>>,
    pub reversal_reason: Option<String>,
}

impl From<redemptions::Redemption> for RedemptionView {
    fn from(r: redemptions::Redemption) -> Self {
        Self {
            id: r.id,
            voucher_id: r.voucher_id,
            station_id: r.station_id,
            redeemed_at: utc(r.redeemed_at),
            redeemed_by: r.counter_id,
            terminal_id: r.terminal_id,
            reversed_at: r.reversed_at.map(utc),
            reversal_reason: r.reversal_reason,
        }
    }
}

fn refused(e: RedeemError) -> ApiError {
    match e {
        RedeemError::AlreadyRedeemed { at, station } => ApiError::new(ErrorCode::AlreadyRedeemed)
            .with_extension("redeemed_at", json!(utc(at)))
            .with_extension("station_id", json!(station)),
        RedeemError::Expired => ErrorCode::VoucherExpired.into(),
        RedeemError::Cancelled => ErrorCode::VoucherCancelled.into(),
        RedeemError::Revoked => ErrorCode::VoucherRevoked.into(),
        RedeemError::Database(e) => e.into(),
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
    body: web::Json<RedeemBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let code = parse_code(&body.code)?;
    let terminal = terminal_id(&req)?;
    let key = idempotent::key(&req)?;
    let hash = request_hash(
        "POST",
        req.path(),
        &json!({"code": code.display(), "station_id": body.station_id}),
    );
    let st = state.clone();
    let me = principal.user_id.clone();
    idempotent::run(&state, &me, key, hash, |stored| stored, move |ticket| async move {
        guard_guessing(&st, &principal.user_id).await?;
        let (st2, station, counter) = (st.clone(), body.station_id.clone(), principal.clone());
        let found = db::run(&st.pool, move |conn| {
            let scope = CounterScope::load(conn, &counter)?;
            if !scope.has_station(&station) {
                return Err(ErrorCode::StationNotAllowed.into());
            }
            let Some(found) = find_by_code(conn, &st2, &code)? else { return Ok(None) };
            if !found.campaign_stations.contains(&station) {
                return Err(ErrorCode::StationNotAllowed.into());
            }
            if let Some(e) = redemptions::refusal(&found.voucher, now()) {
                return Err(refused(e));
            }
            Ok(Some(found.voucher))
        })
        .await?;
        let Some(voucher) = found else { return Err(miss(&st, &principal.user_id).await) };

        let lease = match st.locks.try_acquire(&format!("lock:redeem:{}", voucher.id), REDEMPTION_LOCK_TTL).await {
            Ok(Some(lease)) => Some(lease),
            Ok(None) => return Err(ErrorCode::RedemptionInProgress.into()),
            Err(e) => {
                tracing::warn!(error = %e, "redemption lock unavailable; the database fence decides alone");
                None
            }
        };
        let counter = principal.user_id.clone();
        let result = db::run(&st.pool, move |conn| {
            db::write_tx(conn, |conn| {
                let r = Redeem { voucher: &voucher, station: &body.station_id, counter: &counter, terminal: terminal.as_deref() };
                let redemption = redemptions::redeem(conn, r, now()).map_err(refused)?;
                let answer = serde_json::to_string(&RedemptionView::from(redemption)).map_err(ApiError::internal)?;
                if let Some(ticket) = &ticket {
                    ticket.complete(conn, StatusCode::CREATED, &answer)?;
                }
                Ok((StatusCode::CREATED, answer))
            })
        })
        .await;
        if let Some(lease) = lease {
            if let Err(e) = st.locks.release(&lease).await {
                tracing::warn!(error = %e, "could not release a redemption lock; it expires on its own");
            }
        }
        result
    })
    .await
}
