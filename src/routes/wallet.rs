//! The worker's wallet (卡包): list, show, give back.

use actix_web::{web, HttpResponse};

use crate::app::claims;
use crate::auth::Principal;
use crate::db;
use crate::domain::ids::VoucherId;
use crate::domain::now;
use crate::domain::voucher_reads;
use crate::error::{ApiError, ErrorCode};
use crate::http::json::Query;
use crate::http::pagination;
use crate::state::AppState;
use crate::views::vouchers::{wallet_entry, with_handouts, VoucherView};

/// Newest first, any status.
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    q: Query<pagination::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let before = pagination::cursor(q.cursor.as_deref(), VoucherId::parse)?;
    let keys = state.voucher_keys.clone();
    let views = db::run(&state.pool, move |conn| {
        let rows = voucher_reads::wallet(conn, &principal.user_id, before.as_ref(), limit + 1)?;
        let at = now();
        let mut views: Vec<VoucherView> = rows
            .iter()
            .map(|(entry, redeemed)| wallet_entry(entry, redeemed.as_ref(), &keys, at))
            .collect();
        with_handouts(conn, &mut views)?;
        Ok::<_, ApiError>(views)
    })
    .await?;
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
    let view = db::run(&state.pool, move |conn| {
        let (entry, redeemed) =
            voucher_reads::owned(conn, &principal.user_id, &id)?.ok_or(ErrorCode::NotFound)?;
        let mut view = [wallet_entry(&entry, redeemed.as_ref(), &keys, now())];
        with_handouts(conn, &mut view)?;
        let [view] = view;
        Ok::<_, ApiError>(view)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Gives an unused voucher back; its unit returns to the campaign's stock.
pub async fn cancel(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<VoucherId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let keys = state.voucher_keys.clone();
    let entry = db::transaction(&state.pool, move |conn| {
        Ok::<_, ApiError>(claims::cancel(conn, &principal.user_id, &id, now())?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(wallet_entry(&entry, None, &keys, now())))
}

/// `GET /me/vouchers/{id}/qr.svg`: the QR of the voucher's `qr_payload`, for its owner
/// (another worker's id is 404). Error correction level M and a quiet zone of 4 modules,
/// so a cracked or dim phone screen still scans; the SVG scales to any size.
pub async fn qr_svg(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<VoucherId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let keys = state.voucher_keys.clone();
    let payload = db::run(&state.pool, move |conn| {
        let (entry, _) = voucher_reads::owned(conn, &principal.user_id, &id)?.ok_or(ErrorCode::NotFound)?;
        Ok::<_, ApiError>(keys.code_for(&entry.0.id).qr_payload())
    })
    .await?;
    let code = qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M)
        .map_err(ApiError::internal)?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build();
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-store"))
        .body(svg))
}

/// `POST /me/vouchers/{id}/rating` `{score, comment?}` → 201 once the voucher is redeemed
/// or delivered (contract v1.1).
pub async fn rate(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<VoucherId>,
    body: crate::http::json::Json<crate::app::ratings::RatingInput>,
) -> Result<HttpResponse, ApiError> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let r = db::transaction(&state.pool, move |conn| {
        Ok::<_, ApiError>(crate::app::ratings::rate(
            conn,
            &principal.user_id,
            &id,
            &body,
            now(),
        )?)
    })
    .await?;
    Ok(HttpResponse::Created().json(serde_json::json!({
        "voucher_id": r.voucher_id, "score": r.score, "comment": r.comment,
        "station_id": r.station_id, "created_at": crate::domain::utc(r.created_at),
    })))
}
