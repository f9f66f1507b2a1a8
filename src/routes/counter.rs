//! The counter (核销员): look a code up, redeem it exactly once.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::redeem_lock::Hold;
use crate::app::redemptions::{self as app, RedeemCommand, RedeemRefusal};
use crate::auth::scope::CounterScope;
use crate::auth::Principal;
use crate::db;
use crate::domain::ids::StationId;
use crate::domain::invalid::Invalid;
use crate::domain::now;
use crate::domain::profile::Role;
use crate::domain::voucher_code::VoucherCode;
use crate::error::{ApiError, ErrorCode};
use crate::http::idempotent::{self, Ticket};
use crate::http::json::Json;
use crate::http::throttle;
use crate::state::AppState;
use crate::views::vouchers::{LookupView, RedemptionView};

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
    body: Json<LookupBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    throttle::reserve_guess(&state, &throttle::code_guess_key(&principal.user_id)).await?;
    let (keys, counter) = (state.voucher_keys.clone(), principal.user_id.clone());
    let found = db::run(&state.pool, move |conn| {
        let here = CounterScope::load(conn, &principal)?.serving(body.station_id.as_ref())?;
        Ok::<_, ApiError>(crate::app::lookups::look_up(
            conn,
            &keys,
            &body.code,
            &here,
            now(),
        )?)
    })
    .await;
    if !matches!(found, Ok(None)) {
        throttle::refund_guess(&state, &throttle::code_guess_key(&counter)).await;
    }
    match found? {
        Some(found) => Ok(HttpResponse::Ok().json(LookupView::from(found))),
        None => Err(ErrorCode::VoucherNotFound.into()),
    }
}

fn terminal_id(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    req.headers()
        .get("X-Terminal-Id")
        .map(|v| {
            // Header bytes are UTF-8 as a person typed them (前台1号), not only ASCII.
            let raw = std::str::from_utf8(v.as_bytes())
                .map_err(|_| Invalid::new("X-Terminal-Id", "终端名称须为 UTF-8 文本"))?;
            Ok(crate::app::text(raw, "X-Terminal-Id", 64)?)
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
    body: Json<RedeemCommand>,
) -> Result<HttpResponse, ApiError> {
    let cmd = body.into_inner();
    let terminal = terminal_id(&req)?;
    let keyed = idempotent::keyed(&req, || idempotent::fingerprint(&req, &[], &cmd))?;
    let (st, who) = (state.clone(), principal.user_id.clone());
    let work = move |ticket| redeem_once(st, principal, cmd, terminal, ticket);
    idempotent::run(&state, &who, keyed, |stored| stored, work).await
}

/// A decision made in `redeem_once`'s one trip to the database: whether the counter's
/// guess is given back (every answer but "no such code"), and the answer.
struct Decided {
    refund: bool,
    answer: Result<(StatusCode, String), ApiError>,
}

/// One attempt: the guess reserved and the code locked (one round trip), then in one trip
/// to the database the checks (`app::precheck`) and the hand-over behind the fence, then
/// the guess given back (unless no voucher has the code) and the lock released (one round
/// trip).
async fn redeem_once(
    st: web::Data<AppState>,
    principal: Principal,
    cmd: RedeemCommand,
    terminal: Option<String>,
    ticket: Option<Ticket>,
) -> Result<(StatusCode, String), ApiError> {
    let me = principal.user_id.clone();
    let hash = st.voucher_keys.lookup_hash(&cmd.code);
    let hold = Hold::take(&st, &me, &hash).await?;
    let busy = hold.busy();
    let decided = db::run(&st.pool, move |conn| {
        // `CounterScope::load`'s role check; the stations are read with the voucher.
        principal.require(&[Role::Counter])?;
        let (refund, answer) = match app::precheck(conn, &me, &hash, &cmd.station_id, now()) {
            Err(RedeemRefusal::UnknownCode) => (false, Err(RedeemRefusal::UnknownCode.into())),
            Err(refusal) => (true, Err(refusal.into())),
            // Refusals first: a station not the counter's is told so, not "in progress".
            Ok(_) if busy => (true, Err(ErrorCode::RedemptionInProgress.into())),
            Ok(to) => (
                true,
                hand_over(conn, &to, &cmd, &me, terminal.as_deref(), ticket.as_ref()),
            ),
        };
        Ok::<_, ApiError>(Decided { refund, answer })
    })
    .await;
    // A failure before the decision (no connection in time) says nothing about the code.
    hold.settle(decided.as_ref().map_or(true, |d| d.refund)).await;
    decided?.answer
}

/// The hand-over of a prechecked voucher: in one statement where it applies, else in a
/// write transaction; the idempotent answer stored with it.
fn hand_over(
    conn: &mut db::DbConnection,
    to: &app::ToRedeem,
    cmd: &RedeemCommand,
    me: &crate::domain::ids::UserId,
    terminal: Option<&str>,
    ticket: Option<&Ticket>,
) -> Result<(StatusCode, String), ApiError> {
    if app::at_once_applies(conn, to) {
        let once = super::at_once::run(conn, ticket.is_some(), |conn| {
            match app::redeem_at_once(conn, to, cmd, me, terminal, now())? {
                Some(redemption) => finish(conn, redemption, ticket).map(Some),
                None => Ok(None),
            }
        })?;
        if let Some(answer) = once {
            return Ok(answer);
        }
    }
    db::write_tx(conn, |conn| {
        let redemption = app::redeem(conn, &to.voucher, cmd, me, terminal, now())?;
        finish(conn, redemption, ticket)
    })
}

/// The hand-over's answer, stored with its idempotency ticket in the same transaction.
pub(super) fn finish(
    conn: &mut db::DbConnection,
    redemption: crate::domain::redemptions::Redemption,
    ticket: Option<&Ticket>,
) -> Result<(StatusCode, String), ApiError> {
    let answer = serde_json::to_string(&RedemptionView::from(redemption)).map_err(ApiError::internal)?;
    if let Some(ticket) = ticket {
        ticket.complete(conn, StatusCode::CREATED, &answer)?;
    }
    Ok((StatusCode::CREATED, answer))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TodayQuery {
    station_id: Option<StationId>,
    limit: Option<i64>,
}

/// `GET /counter/redemptions?station_id=`: today's (Beijing day) redemptions at this
/// counter's station (or all of its stations), newest first, holders masked.
pub async fn today(
    state: web::Data<AppState>,
    principal: Principal,
    query: crate::http::json::Query<TodayQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let limit = crate::http::pagination::limit(q.limit.or(Some(100)))?;
    let items = db::run(&state.pool, move |conn| {
        let scope = CounterScope::load(conn, &principal)?;
        let serving = scope.serving(q.station_id.as_ref())?;
        let at = now();
        let start = crate::domain::civil::start_of(crate::domain::civil::date_of(at));
        let rows = crate::domain::counter_log::since(conn, &serving, start, limit)?;
        Ok::<_, ApiError>(rows.into_iter().map(today_item).collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items, "next_cursor": null})))
}

fn today_item(r: crate::domain::counter_log::Row) -> serde_json::Value {
    let (id, voucher, station, station_name, title, item, holder, at, reversed) = r;
    serde_json::json!({
        "id": id, "voucher_id": voucher, "station_id": station, "station_name": station_name,
        "campaign_title": title, "item_name": item,
        "holder_name_masked": crate::domain::phone::mask_name(&holder),
        "redeemed_at": crate::domain::utc(at), "reversed_at": reversed.map(crate::domain::utc),
    })
}
