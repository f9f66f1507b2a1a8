//! 送货上门 at the counter: the list of vouchers still to deliver (with addresses, for the
//! campaign's own counters only) and the hand-over, fenced like a redemption.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::counter::finish;
use super::redeem_lock::fenced;
use crate::app::deliveries::{self as app, DeliverCommand};
use crate::auth::scope::CounterScope;
use crate::auth::Principal;
use crate::db;
use crate::domain::deliveries::ToDeliver;
use crate::domain::ids::{CampaignId, VoucherId};
use crate::domain::now;
use crate::domain::phone::mask_name;
use crate::domain::utc;
use crate::error::ApiError;
use crate::http::idempotent::{self, Ticket};
use crate::http::json::{Json, Query};
use crate::http::pagination;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    campaign_id: Option<CampaignId>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// `GET /counter/deliveries?campaign_id=`: vouchers still to deliver, oldest first, with
/// the holder's address (and a `pii.viewed` entry), names and phones masked.
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    q: Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let limit = pagination::limit(q.limit)?;
    let after = pagination::cursor(q.cursor.as_deref(), VoucherId::parse)?;
    let rows = db::transaction(&state.pool, move |conn| {
        let scope = CounterScope::load(conn, &principal)?;
        let rows = app::to_deliver(
            conn,
            &scope,
            q.campaign_id.as_ref(),
            after.as_ref(),
            limit + 1,
            now(),
        )?;
        Ok::<_, ApiError>(rows)
    })
    .await?;
    let items: Vec<serde_json::Value> = rows.into_iter().map(item).collect();
    Ok(HttpResponse::Ok().json(pagination::page(items, limit, |i| {
        i["voucher_id"].as_str().unwrap_or_default().to_owned()
    })))
}

fn item(r: ToDeliver) -> serde_json::Value {
    let (voucher, campaign, title, item, name, phone, address, expires_at) = r;
    json!({
        "voucher_id": voucher, "campaign_id": campaign, "campaign_title": title, "item_name": item,
        "holder_name_masked": mask_name(&name), "holder_phone_masked": phone.masked(),
        "address": address, "expires_at": utc(expires_at),
    })
}

/// `POST /counter/deliveries` `{voucher_id, station_id}` → 201, once (`Idempotency-Key`
/// optional, as for redemptions).
pub async fn deliver(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: Json<DeliverCommand>,
) -> Result<HttpResponse, ApiError> {
    let cmd = body.into_inner();
    let keyed = idempotent::keyed(&req, || idempotent::fingerprint(&req, &[], &cmd))?;
    let (st, who) = (state.clone(), principal.user_id.clone());
    let work = move |ticket| deliver_once(st, principal, cmd, ticket);
    idempotent::run(&state, &who, keyed, |stored| stored, work).await
}

async fn deliver_once(
    st: web::Data<AppState>,
    principal: Principal,
    cmd: DeliverCommand,
    ticket: Option<Ticket>,
) -> Result<(StatusCode, String), ApiError> {
    let me = principal.user_id.clone();
    let checked = cmd.clone();
    let (voucher, code_hash) = db::run(&st.pool, move |conn| {
        let scope = CounterScope::load(conn, &principal)?;
        Ok::<_, ApiError>(app::precheck(conn, &scope, &checked, now())?)
    })
    .await?;
    fenced(&st, &code_hash, move |conn| {
        db::write_tx(conn, |conn| {
            let delivered = app::deliver(conn, &voucher, &cmd, &me, now())?;
            finish(conn, delivered, ticket.as_ref())
        })
    })
    .await
}
