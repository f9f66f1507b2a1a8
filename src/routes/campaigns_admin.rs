//! The admin's side of campaigns: create, edit, publish ⇄ pause, close, list.
//! What admins read about one (stats, dry run) is in `campaign_reports`.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;

use super::campaign_views::{self as cv, at, conflict};
use super::pagination;
use crate::auth::scope::{AdminScope, ADMIN_ROLES};
use crate::auth::Principal;
use crate::db;
use crate::db::schema::vouchers;
use crate::domain::campaigns::{self, CampaignFields, Status};
use crate::domain::ids::{CampaignId, StationId, UnionId};
use crate::domain::now;
use crate::domain::rules::Rule;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCampaign {
    union_id: UnionId,
    title: String,
    item_name: String,
    #[serde(default)]
    description: Option<String>,
    total_stock: i64,
    #[serde(default)]
    per_worker_limit: Option<i32>,
    claim_starts_at: DateTime<Utc>,
    claim_ends_at: DateTime<Utc>,
    redeem_until: DateTime<Utc>,
    #[serde(default)]
    station_ids: Vec<StationId>,
    rules: Vec<Rule>,
}

pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<CreateCampaign>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let per_worker = b.per_worker_limit.unwrap_or(1);
    cv::check_stock(b.total_stock, per_worker)?;
    let (starts, ends, until) = (at(b.claim_starts_at), at(b.claim_ends_at), at(b.redeem_until));
    cv::check_window(starts, ends, until)?;
    let (title, item_name) = (
        cv::text(&b.title, "title", 100)?,
        cv::text(&b.item_name, "item_name", 100)?,
    );
    let description = b
        .description
        .map(|d| cv::text(&d, "description", 2000))
        .transpose()?;
    let view = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let scope = AdminScope::load(conn, &principal)?;
            let union = scope.union_in_scope(conn, &b.union_id)?;
            cv::check_stations(conn, &union.path, &b.station_ids)?;
            let fields = CampaignFields {
                title,
                item_name,
                description,
                total_stock: b.total_stock,
                per_worker_limit: per_worker,
                claim_starts_at: starts,
                claim_ends_at: ends,
                redeem_until: until,
                rules: cv::check_rules(conn, &b.rules)?,
            };
            let created = campaigns::create(conn, &union.id, &fields, &b.station_ids, scope.user(), now())?;
            cv::detail(conn, created)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateCampaign {
    title: Option<String>,
    item_name: Option<String>,
    description: Option<String>,
    total_stock: Option<i64>,
    per_worker_limit: Option<i32>,
    claim_starts_at: Option<DateTime<Utc>>,
    claim_ends_at: Option<DateTime<Utc>>,
    redeem_until: Option<DateTime<Utc>>,
    station_ids: Option<Vec<StationId>>,
    rules: Option<Vec<Rule>>,
}

/// Drafts change freely. Once published: title and description, stock only upwards,
/// and the claim and redeem deadlines only later.
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<CampaignId>,
    body: web::Json<UpdateCampaign>,
) -> Result<HttpResponse, ApiError> {
    let (id, b) = (id.into_inner(), body.into_inner());
    let view = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let scope = AdminScope::load(conn, &principal)?;
            let (c, union_path) = cv::campaign_in_scope(conn, &scope, &id)?;
            let mut f = CampaignFields {
                title: b.title.as_deref().map(|t| cv::text(t, "title", 100)).transpose()?.unwrap_or(c.title.clone()),
                item_name: b.item_name.as_deref().map(|t| cv::text(t, "item_name", 100)).transpose()?.unwrap_or(c.item_name.clone()),
                description: b.description.as_deref().map(|t| cv::text(t, "description", 2000)).transpose()?.or(c.description.clone()),
                total_stock: b.total_stock.unwrap_or(c.total_stock),
                per_worker_limit: b.per_worker_limit.unwrap_or(c.per_worker_limit),
                claim_starts_at: b.claim_starts_at.map(at).unwrap_or(c.claim_starts_at),
                claim_ends_at: b.claim_ends_at.map(at).unwrap_or(c.claim_ends_at),
                redeem_until: b.redeem_until.map(at).unwrap_or(c.redeem_until),
                rules: c.rules.clone(),
            };
            cv::check_stock(f.total_stock, f.per_worker_limit)?;
            cv::check_window(f.claim_starts_at, f.claim_ends_at, f.redeem_until)?;
            if !campaigns::begin_edit(conn, &c, now())? {
                return Err(conflict("the campaign was changed meanwhile; reload it and try again"));
            }
            match c.status() {
                Status::Draft => {
                    if let Some(rules) = &b.rules {
                        f.rules = cv::check_rules(conn, rules)?;
                    }
                    let stations = match &b.station_ids {
                        Some(s) => s.clone(),
                        None => campaigns::station_ids(conn, &id)?,
                    };
                    cv::check_stations(conn, &union_path, &stations)?;
                    campaigns::update_draft(conn, &id, &f, &stations, now())?;
                }
                Status::Closed => return Err(conflict("a closed campaign cannot change")),
                Status::Published | Status::Paused => {
                    if b.item_name.is_some() || b.per_worker_limit.is_some() || b.claim_starts_at.is_some() || b.rules.is_some() || b.station_ids.is_some() {
                        return Err(conflict("after publishing only title, description, total_stock and later deadlines can change"));
                    }
                    if f.total_stock < c.total_stock || f.claim_ends_at < c.claim_ends_at || f.redeem_until < c.redeem_until {
                        return Err(conflict("after publishing stock may only grow and deadlines only move later"));
                    }
                    campaigns::add_stock(conn, &id, f.total_stock - c.total_stock)?;
                    diesel::update(crate::db::schema::campaigns::table.find(&id))
                        .set((&f, crate::db::schema::campaigns::updated_at.eq(now())))
                        .execute(conn)?;
                    // Vouchers already issued follow a later redeem deadline.
                    diesel::update(vouchers::table.filter(vouchers::campaign_id.eq(&id)).filter(vouchers::status.eq("issued")))
                        .set(vouchers::expires_at.eq(f.redeem_until))
                        .execute(conn)?;
                }
            }
            let updated = campaigns::find(conn, &id)?.ok_or(ErrorCode::NotFound)?;
            cv::detail(conn, updated)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn transition(
    state: web::Data<AppState>,
    principal: Principal,
    id: CampaignId,
    from: &'static [Status],
    to: Status,
) -> Result<HttpResponse, ApiError> {
    principal.require(ADMIN_ROLES)?;
    let view = db::run(&state.pool, move |conn| {
        db::write_tx(conn, |conn| {
            let scope = AdminScope::load(conn, &principal)?;
            let (c, _) = cv::campaign_in_scope(conn, &scope, &id)?;
            if to == Status::Published && campaigns::station_ids(conn, &id)?.is_empty() {
                return Err(conflict("add at least one redemption station before publishing"));
            }
            if to == Status::Published && now() >= c.claim_ends_at {
                return Err(conflict("the claim window is already over"));
            }
            if !campaigns::transition(conn, &id, from, to, now())? {
                return Err(conflict(&format!(
                    "a {} campaign cannot become {}",
                    c.status,
                    to.as_str()
                )));
            }
            let updated = campaigns::find(conn, &id)?.ok_or(ErrorCode::NotFound)?;
            cv::detail(conn, updated)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn publish(
    s: web::Data<AppState>,
    p: Principal,
    id: web::Path<CampaignId>,
) -> Result<HttpResponse, ApiError> {
    transition(
        s,
        p,
        id.into_inner(),
        &[Status::Draft, Status::Paused],
        Status::Published,
    )
    .await
}

pub async fn pause(
    s: web::Data<AppState>,
    p: Principal,
    id: web::Path<CampaignId>,
) -> Result<HttpResponse, ApiError> {
    transition(s, p, id.into_inner(), &[Status::Published], Status::Paused).await
}

pub async fn close(
    s: web::Data<AppState>,
    p: Principal,
    id: web::Path<CampaignId>,
) -> Result<HttpResponse, ApiError> {
    transition(
        s,
        p,
        id.into_inner(),
        &[Status::Draft, Status::Published, Status::Paused],
        Status::Closed,
    )
    .await
}

pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    q: web::Query<pagination::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let before = pagination::cursor(q.cursor.as_deref(), CampaignId::parse)?;
    let views = db::run(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        let rows = campaigns::list(
            conn,
            Some(scope.path_prefix().unwrap_or("/")),
            false,
            before.as_ref(),
            limit + 1,
        )?;
        rows.into_iter()
            .map(|c| cv::summary(conn, c))
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    Ok(
        HttpResponse::Ok().json(pagination::page(views, limit, |v: &cv::CampaignView| {
            v.id.to_string()
        })),
    )
}
