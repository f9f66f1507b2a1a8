//! What admins read about a campaign: its stats, its vouchers by status, and a dry run
//! of its rules.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde_json::json;

use super::campaign_views::campaign_in_scope;
use super::pagination;
use crate::auth::scope::AdminScope;
use crate::auth::Principal;
use crate::db;
use crate::db::schema::{memberships, unions, users};
use crate::domain::campaigns;
use crate::domain::eligibility;
use crate::domain::ids::{CampaignId, VoucherId};
use crate::domain::phone::mask_name;
use crate::domain::rules::{self, MemberFacts};
use crate::domain::utc;
use crate::domain::{now, voucher_stats as voucher_queries};
use crate::error::ApiError;
use crate::state::AppState;

/// Claimed vs redeemed at a glance; `remaining` counts expired vouchers' stock as free
/// again, so `total_stock = remaining + issued_unredeemed + redeemed`.
pub async fn stats(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<CampaignId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let body = db::run(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        let (c, _) = campaign_in_scope(conn, &scope, &id)?;
        let t = now();
        let counts = voucher_queries::counts(conn, &id, t)?;
        let remaining = campaigns::remaining(conn, &id)? + counts.expired;
        let by_station = voucher_queries::redeemed_by_station(conn, &id)?;
        let mut body = serde_json::to_value(&counts).map_err(ApiError::internal)?;
        body["campaign_id"] = json!(id);
        body["total_stock"] = json!(c.total_stock);
        body["remaining"] = json!(remaining);
        body["by_station"] = json!(by_station
            .into_iter()
            .map(|(station_id, redeemed)| json!({"station_id": station_id, "redeemed": redeemed}))
            .collect::<Vec<_>>());
        body["as_of"] = json!(crate::domain::utc(t));
        Ok(body)
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

type MemberRow = (eligibility::ProfileRow, (String, chrono::NaiveDateTime));

/// How many current members of the admin's subtree the campaign's rules would admit,
/// and how many each unmet condition keeps out. Reads only.
pub async fn dry_run(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<CampaignId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let body = db::run(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        let (c, _) = campaign_in_scope(conn, &scope, &id)?;
        let rules = c.rules()?;
        let named = eligibility::named_unions(conn, &rules)?;
        let members: Vec<MemberRow> = users::table
            .inner_join(memberships::table.on(memberships::user_id.eq(users::id).and(memberships::ended_at.is_null())))
            .inner_join(unions::table.on(unions::id.eq(memberships::union_id)))
            .filter(unions::path.like(format!("{}%", scope.path_prefix().unwrap_or("/"))))
            .select((eligibility::PROFILE, (unions::path, memberships::since)))
            .load(conn)?;
        let (mut admitted, mut kept_out) = (0u64, BTreeMap::<&str, u64>::new());
        let considered = members.len();
        for (profile, (union_path, since)) in members {
            let facts = eligibility::facts(profile, Some(MemberFacts { union_path, since }));
            let unmet = rules::unmet(&rules, &facts, &named);
            if unmet.is_empty() {
                admitted += 1;
            }
            for reason in unmet {
                *kept_out.entry(reason.code).or_default() += 1;
            }
        }
        Ok(json!({"campaign_id": id, "members_considered": considered, "admitted": admitted, "unmet": kept_out}))
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Debug, serde::Deserialize)]
pub struct VoucherQuery {
    status: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

#[derive(Debug, serde::Serialize)]
struct HeldVoucher {
    voucher_id: VoucherId,
    status: String,
    holder_name_masked: String,
    holder_phone_masked: String,
    issued_at: chrono::DateTime<chrono::Utc>,
    expires_at: chrono::DateTime<chrono::Utc>,
    redeemed_at: Option<chrono::DateTime<chrono::Utc>>,
    redeemed_station_id: Option<crate::domain::ids::StationId>,
}

/// A campaign's vouchers by status, holders masked: `?status=issued` (the default) is the
/// list of 已领取未核销 to chase.
pub async fn vouchers(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<CampaignId>,
    q: web::Query<VoucherQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let q = q.into_inner();
    let limit = pagination::limit(q.limit)?;
    let before = pagination::cursor(q.cursor.as_deref(), VoucherId::parse)?;
    let status = q.status.unwrap_or_else(|| "issued".into());
    if !["issued", "redeemed", "expired", "cancelled", "revoked"].contains(&status.as_str()) {
        return Err(ApiError::invalid(
            "status must be issued, redeemed, expired, cancelled or revoked",
        ));
    }
    let rows = db::run(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        campaign_in_scope(conn, &scope, &id)?;
        let t = now();
        let rows = voucher_queries::of_campaign(conn, &id, &status, t, before.as_ref(), limit + 1)?;
        Ok(rows
            .into_iter()
            .map(|(v, name, phone)| HeldVoucher {
                status: v.status_at(t).to_owned(),
                voucher_id: v.id,
                holder_name_masked: mask_name(&name),
                holder_phone_masked: phone.masked(),
                issued_at: utc(v.issued_at),
                expires_at: utc(v.expires_at),
                redeemed_at: v.redeemed_at.map(utc),
                redeemed_station_id: v.redeemed_station_id,
            })
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(
        HttpResponse::Ok().json(pagination::page(rows, limit, |v: &HeldVoucher| {
            v.voucher_id.to_string()
        })),
    )
}
