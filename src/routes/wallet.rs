//! The worker's wallet (卡包): list, show, give back.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

use super::pagination;
use crate::auth::Principal;
use crate::db;
use crate::domain::ids::{CampaignId, StationId, VoucherId};
use crate::domain::voucher_code::VoucherKeys;
use crate::domain::vouchers::{self, CancelError, Voucher};
use crate::domain::{now, utc};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct VoucherView {
    id: VoucherId,
    campaign_id: CampaignId,
    campaign_title: String,
    item_name: String,
    status: String,
    /// `XXXX-XXXX-XXXX-XXXX`, derived on the fly: the database holds only its hash.
    code: String,
    qr_payload: String,
    claim_no: i32,
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    redeemed_at: Option<DateTime<Utc>>,
    redeemed_station_id: Option<StationId>,
    cancelled_at: Option<DateTime<Utc>>,
}

pub fn voucher_view(
    v: &Voucher,
    title: &str,
    item: &str,
    keys: &VoucherKeys,
    at: NaiveDateTime,
) -> VoucherView {
    let code = keys.code_for(&v.id);
    VoucherView {
        id: v.id.clone(),
        campaign_id: v.campaign_id.clone(),
        campaign_title: title.to_owned(),
        item_name: item.to_owned(),
        status: v.status_at(at).to_owned(),
        code: code.display(),
        qr_payload: code.qr_payload(),
        claim_no: v.claim_no,
        issued_at: utc(v.issued_at),
        expires_at: utc(v.expires_at),
        redeemed_at: v.redeemed_at.map(utc),
        redeemed_station_id: v.redeemed_station_id.clone(),
        cancelled_at: v.cancelled_at.map(utc),
    }
}

/// Newest first, any status.
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    q: web::Query<pagination::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let before = pagination::cursor(q.cursor.as_deref(), VoucherId::parse)?;
    let keys = state.voucher_keys.clone();
    let rows = db::run(&state.pool, move |conn| {
        Ok(vouchers::wallet(
            conn,
            &principal.user_id,
            before.as_ref(),
            limit + 1,
        )?)
    })
    .await?;
    let at = now();
    let views: Vec<VoucherView> = rows
        .iter()
        .map(|(v, t, i)| voucher_view(v, t, i, &keys, at))
        .collect();
    Ok(HttpResponse::Ok().json(pagination::page(views, limit, |v: &VoucherView| v.id.to_string())))
}

/// One voucher; another worker's answers 404, exactly as a missing one does.
pub async fn show(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<VoucherId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let keys = state.voucher_keys.clone();
    let (v, title, item) = db::run(&state.pool, move |conn| {
        Ok(vouchers::owned(conn, &principal.user_id, &id)?)
    })
    .await?
    .ok_or(ErrorCode::NotFound)?;
    Ok(HttpResponse::Ok().json(voucher_view(&v, &title, &item, &keys, now())))
}

/// Gives an unused voucher back; its unit returns to the campaign's stock.
pub async fn cancel(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<VoucherId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let keys = state.voucher_keys.clone();
    let user = principal.user_id.clone();
    let (v, title, item) = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            vouchers::cancel(conn, &user, &id, now()).map_err(|e| match e {
                CancelError::NotFound => ApiError::new(ErrorCode::NotFound),
                CancelError::NotActive => ApiError::new(ErrorCode::VoucherNotActive),
                CancelError::Database(e) => e.into(),
            })?;
            Ok(vouchers::owned(conn, &user, &id)?.ok_or(ErrorCode::NotFound)?)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(voucher_view(&v, &title, &item, &keys, now())))
}
