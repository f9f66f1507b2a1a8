//! The worker's side of campaigns: browse, check eligibility, claim.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::app::claims::{self, ClaimCommand};
use crate::auth::scope::{visible_campaign, ScopeError};
use crate::auth::{Presented, Principal};
use crate::db::{self, DbConnection};
use crate::domain::campaigns::{self, Campaign};
use crate::domain::eligibility;
use crate::domain::ids::{CampaignId, VoucherId};
use crate::domain::now;
use crate::domain::profile::Role;
use crate::domain::voucher_code::VoucherKeys;
use crate::domain::vouchers::WalletEntry;
use crate::error::ApiError;
use crate::http::idempotent::{self, Ticket};
use crate::http::json::{self, Query};
use crate::http::pagination;
use crate::state::AppState;
use crate::views::campaigns::{self as views, CampaignView};
use crate::views::vouchers::wallet_entry;

/// Published campaigns, newest first, each with `remaining` (paused and closed ones stay
/// reachable by id, so a wallet's links keep working).
pub async fn list(
    state: web::Data<AppState>,
    _principal: Principal,
    q: Query<pagination::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let before = pagination::cursor(q.cursor.as_deref(), CampaignId::parse)?;
    let views = db::run(&state.pool, move |conn| {
        let rows = campaigns::list(conn, None, true, before.as_ref(), limit + 1)?;
        Ok::<_, ApiError>(views::summaries(conn, rows)?)
    })
    .await?;
    Ok(
        HttpResponse::Ok().json(pagination::page(views, limit, |v: &CampaignView| {
            v.id.to_string()
        })),
    )
}

pub async fn show(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<CampaignId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let view = db::run(&state.pool, move |conn| {
        let campaign = visible_campaign(conn, &principal, &id)?;
        Ok::<_, ApiError>(views::detail(conn, campaign)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Every unmet condition and every campaign-state reason, each with its code.
/// The session is checked in the same statement as the worker's standing
/// (`eligibility::assess_as`), and nothing is answered before it is settled.
pub async fn eligibility(
    state: web::Data<AppState>,
    presented: Presented,
    id: web::Path<CampaignId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let body = db::run(&state.pool, move |conn| {
        let assessed = assess_as_worker(conn, presented, &id)?;
        // A worker sees every campaign but drafts (`scope::visible_campaign`): `assess`
        // answers `None` for those.
        let (_, assessment) = assessed.ok_or(ScopeError::NotFound)?;
        let reasons = assessment.reasons();
        Ok::<_, ApiError>(json!({"campaign_id": id, "eligible": reasons.is_empty(), "reasons": reasons}))
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// The assessment of `presented`'s user in `campaign`, the session checked in the same
/// statement (`eligibility::assess_as`) and settled before anything else: a refused
/// session, or a caller who is not a worker, gets that refusal and nothing more. `None`:
/// no such campaign, or a draft.
fn assess_as_worker(
    conn: &mut DbConnection,
    presented: Presented,
    campaign: &CampaignId,
) -> Result<Option<eligibility::Assessed>, ApiError> {
    let (user, session) = (
        presented.unverified_user().clone(),
        presented.unverified_session().clone(),
    );
    let (seen, assessed) = eligibility::assess_as(conn, campaign, &user, &session, now())?;
    presented.settle_seen(conn, seen)?.require(&[Role::Worker])?;
    Ok(assessed)
}

/// The body of a claim: `{}` or nothing.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {}

/// An absent or blank body is `{}`; anything else must be an empty JSON object.
fn claim_body(body: &[u8]) -> Result<ClaimBody, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(ClaimBody {});
    }
    Ok(json::parse(body)?)
}

/// A worker's first claim without an `Idempotency-Key` checks its session in the same
/// statement as the eligibility read (`claim_in`); a keyed claim writes its key before the
/// work, so its session is settled first, as is one whose check is remembered.
pub async fn claim(
    state: web::Data<AppState>,
    presented: Presented,
    id: web::Path<CampaignId>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let keyed = req.headers().contains_key(idempotent::HEADER);
    let (worker, unsettled) = if keyed || presented.is_remembered() {
        let principal = presented.check().await?;
        principal.require(&[Role::Worker])?;
        (principal.user_id, None)
    } else {
        // Not yet a principal: `claim_in` settles the session before deciding anything.
        (presented.unverified_user().clone(), Some(presented))
    };
    let id = id.into_inner();
    let body = json::read_body(&req, payload.into_inner()).await;
    let body = body.and_then(|b| claim_body(&b));
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            // A session's refusal comes before the body's, as on every route.
            if let Some(presented) = unsettled {
                presented.check().await?.require(&[Role::Worker])?;
            }
            return Err(e);
        }
    };
    let keyed = idempotent::keyed(&req, || idempotent::fingerprint(&req, &[id.as_str()], &body))?;
    let cmd = ClaimCommand { campaign: id, worker };
    let (st, keys) = (state.clone(), state.voucher_keys.clone());
    let restore = move |stored: String| with_code(&stored, &keys).unwrap_or(stored);
    let who = cmd.worker.clone();
    idempotent::run(&state, &who, keyed, restore, move |ticket| async move {
        let keys = st.voucher_keys.clone();
        db::run(&st.pool, move |conn| {
            claim_in(conn, &cmd, &keys, ticket, unsettled)
        })
        .await
    })
    .await
}

/// The claim, with its idempotent answer recorded in the same transaction. Refusals are
/// answered from reads before any transaction (on SQLite before its single writer's lock);
/// on PostgreSQL the common case is then one statement (`claims::claim_at_once`), and
/// whatever it declines goes through the transactional path, which checks everything
/// again.
///
/// `unsettled`: a session not checked yet, checked here in the eligibility read's
/// statement before anything is decided or written.
fn claim_in(
    conn: &mut DbConnection,
    cmd: &ClaimCommand,
    keys: &VoucherKeys,
    ticket: Option<Ticket>,
    unsettled: Option<Presented>,
) -> Result<(StatusCode, String), ApiError> {
    let (campaign, claim_no) = match unsettled {
        None => claims::precheck(conn, cmd, now())?,
        Some(presented) => claims::decide(assess_as_worker(conn, presented, &cmd.campaign)?)?,
    };
    if claims::at_once_applies(conn, &campaign, now()) {
        if let Some(answer) = at_once(conn, &campaign, cmd, claim_no, keys, ticket.as_ref())? {
            return Ok(answer);
        }
    }
    db::write_tx(conn, |conn| {
        let entry = claims::claim(conn, cmd, keys, now())?;
        answer(conn, &entry, keys, ticket.as_ref())
    })
}

/// The created voucher's answer, recorded with the ticket (without its code) if any.
fn answer(
    conn: &mut DbConnection,
    entry: &WalletEntry,
    keys: &VoucherKeys,
    ticket: Option<&Ticket>,
) -> Result<(StatusCode, String), ApiError> {
    let body = serde_json::to_value(wallet_entry(entry, None, keys, now())).map_err(ApiError::internal)?;
    if let Some(ticket) = ticket {
        ticket.complete(conn, StatusCode::CREATED, &without_code(&body))?;
    }
    Ok((StatusCode::CREATED, body.to_string()))
}

/// `claims::claim_at_once` with the ticket's answer (`at_once::run`). `Ok(None)` when
/// declined.
fn at_once(
    conn: &mut DbConnection,
    campaign: &Campaign,
    cmd: &ClaimCommand,
    claim_no: i32,
    keys: &VoucherKeys,
    ticket: Option<&Ticket>,
) -> Result<Option<(StatusCode, String)>, ApiError> {
    super::at_once::run(conn, ticket.is_some(), |conn| {
        match claims::claim_at_once(conn, campaign, cmd, claim_no, keys, now())? {
            Some(entry) => answer(conn, &entry, keys, ticket).map(Some),
            None => Ok(None),
        }
    })
}

/// The stored copy of a claim's answer: the code is derived again on replay, so the
/// idempotency table holds nothing redeemable.
fn without_code(body: &serde_json::Value) -> String {
    let mut stored = body.clone();
    if let Some(map) = stored.as_object_mut() {
        map.remove("code");
        map.remove("qr_payload");
    }
    stored.to_string()
}

fn with_code(stored: &str, keys: &VoucherKeys) -> Option<String> {
    let mut body: serde_json::Value = serde_json::from_str(stored).ok()?;
    let id = VoucherId::parse(body["id"].as_str()?)?;
    let code = keys.code_for(&id);
    body["code"] = json!(code.display());
    body["qr_payload"] = json!(code.qr_payload());
    Some(body.to_string())
}
