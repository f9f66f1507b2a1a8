//! A worker claims a voucher (领取): `POST /api/v1/campaigns/{id}/claims`.
//!
//! The paths a claim can take, cheapest first (each counted in
//! `zhijian_claim_paths_total`): `one_statement` decides and writes a worker's first
//! voucher of a campaign this instance read lately in one statement, with nothing read
//! before (`claims::claim_first`); whatever that declines is read and decided
//! (`read_then_statement`: the standing read, then `claims::claim_at_once`), and what
//! that declines too goes through a write transaction (`transaction`).

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::as_worker;
use crate::app::claims::{self, ClaimCommand, ClaimRefusal};
use crate::app::open_campaigns::OpenCampaigns;
use crate::auth::Presented;
use crate::db::{self, DbConnection};
use crate::domain::claim_statement;
use crate::domain::ids::{CampaignId, VoucherId};
use crate::domain::now;
use crate::domain::profile::Role;
use crate::domain::voucher_code::VoucherKeys;
use crate::domain::vouchers::WalletEntry;
use crate::error::ApiError;
use crate::http::idempotent::{self, Ticket};
use crate::http::json;
use crate::metrics::Outcome;
use crate::state::AppState;
use crate::views::vouchers::wallet_entry;

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
        let claiming = Claiming {
            keys: st.voucher_keys.clone(),
            open: st.open_campaigns.clone(),
            paths: st.metrics.claim_paths.clone(),
        };
        db::run(&st.pool, move |conn| {
            claim_in(conn, &claiming, &cmd, ticket, unsettled)
        })
        .await
    })
    .await
}

/// What a claim uses beside its connection.
struct Claiming {
    keys: VoucherKeys,
    open: Arc<OpenCampaigns>,
    paths: Family<Outcome, Counter>,
}

impl Claiming {
    /// Counts a created voucher by the path that made it.
    fn made_by(&self, path: &str) {
        self.paths.get_or_create(&Outcome { outcome: path.into() }).inc();
    }
}

/// What `first` came to.
enum First {
    /// The voucher's answer.
    Made((StatusCode, String)),
    /// Not tried (no campaign remembered: always so on SQLite) or declined: nothing
    /// written, and the session still to settle, if it was.
    Declined(Option<Presented>),
}

/// `claims::claim_first` with the ticket's answer, on PostgreSQL for a campaign
/// remembered; on success `unsettled` is settled as the statement proved it
/// (`claim_statement::SESSION_PROVEN`).
fn first(
    conn: &mut DbConnection,
    c: &Claiming,
    cmd: &ClaimCommand,
    ticket: Option<&Ticket>,
    unsettled: Option<Presented>,
) -> Result<First, ApiError> {
    let Some(remembered) = c.open.get(&cmd.campaign) else {
        return Ok(First::Declined(unsettled));
    };
    let session = unsettled.as_ref().map(|p| p.unverified_session().clone());
    let made = recorded(conn, &c.keys, ticket, |conn| {
        claims::claim_first(conn, &remembered, &cmd.worker, session.as_ref(), &c.keys, now())
    })?;
    let Some(made) = made else {
        return Ok(First::Declined(unsettled));
    };
    if let Some(presented) = unsettled {
        presented.settle_seen(conn, Some(claim_statement::SESSION_PROVEN))?;
    }
    c.made_by("one_statement");
    Ok(First::Made(made))
}

/// The claim, with its idempotent answer recorded in the same transaction. Refusals are
/// answered from reads before any transaction (on SQLite before its single writer's lock);
/// on PostgreSQL the common case is then one statement (`claims::claim_at_once`), and
/// whatever it declines goes through the transactional path, which checks everything
/// again.
///
/// `unsettled`: a session not checked yet, checked in the statement that decides (the
/// first claim's, or the eligibility read's) before anything is decided or written.
fn claim_in(
    conn: &mut DbConnection,
    c: &Claiming,
    cmd: &ClaimCommand,
    ticket: Option<Ticket>,
    unsettled: Option<Presented>,
) -> Result<(StatusCode, String), ApiError> {
    let unsettled = match first(conn, c, cmd, ticket.as_ref(), unsettled)? {
        First::Made(made) => return Ok(made),
        First::Declined(unsettled) => unsettled,
    };
    let decided = match unsettled {
        None => claims::precheck(conn, cmd, now()),
        Some(presented) => claims::decide(as_worker::assess(conn, presented, &cmd.campaign)?),
    };
    let (campaign, claim_no) = match decided {
        Ok(decided) => decided,
        // Nobody's claim would pass now: the next ones go straight to the read.
        Err(e @ (ClaimRefusal::SoldOut(_) | ClaimRefusal::NotOpen(_) | ClaimRefusal::Ended(_))) => {
            c.open.forget(&cmd.campaign);
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    // The campaign as just read: this worker's next claim, and others', can be `first`.
    c.open.note(&campaign);
    let keys = &c.keys;
    if claims::at_once_applies(conn, &campaign, now()) {
        let attempt =
            |conn: &mut DbConnection| claims::claim_at_once(conn, &campaign, cmd, claim_no, keys, now());
        if let Some(answer) = recorded(conn, keys, ticket.as_ref(), attempt)? {
            c.made_by("read_then_statement");
            return Ok(answer);
        }
    }
    let made = db::write_tx(conn, |conn| {
        let entry = claims::claim(conn, cmd, keys, now())?;
        answer(conn, &entry, keys, ticket.as_ref())
    })?;
    c.made_by("transaction");
    Ok(made)
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

/// A one-statement claim (`claims::claim_first` or `claims::claim_at_once`) with the
/// ticket's answer (`at_once::run`: alone, or in a write transaction with the ticket).
/// `Ok(None)` when it declined.
fn recorded(
    conn: &mut DbConnection,
    keys: &VoucherKeys,
    ticket: Option<&Ticket>,
    attempt: impl FnOnce(&mut DbConnection) -> Result<Option<WalletEntry>, ClaimRefusal>,
) -> Result<Option<(StatusCode, String)>, ApiError> {
    super::at_once::run(conn, ticket.is_some(), |conn| match attempt(conn)? {
        Some(entry) => answer(conn, &entry, keys, ticket).map(Some),
        None => Ok(None),
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
