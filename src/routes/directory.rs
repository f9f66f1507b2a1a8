//! The public directory of unions and stations.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::auth::Principal;
use crate::db;
use crate::domain::ids::{StationId, UnionId};
use crate::domain::invalid::Invalid;
use crate::domain::org;
use crate::error::{ApiError, ErrorCode};
use crate::http::json::Query;
use crate::http::pagination;
use crate::state::AppState;
use crate::views::org::{StationView, UnionView};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnionQuery {
    parent_id: Option<UnionId>,
    region_code: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

fn region_filter(raw: Option<String>) -> Result<Option<String>, ApiError> {
    match raw {
        Some(r) if (2..=6).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(r)),
        Some(_) => Err(ApiError::from(Invalid::new(
            "region_code",
            "地区代码应为 2 到 6 位数字",
        ))),
        None => Ok(None),
    }
}

pub async fn list_unions(
    state: web::Data<AppState>,
    _principal: Principal,
    query: Query<UnionQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let limit = pagination::limit(q.limit)?;
    let after = pagination::cursor(q.cursor.as_deref(), UnionId::parse)?;
    let parent = q.parent_id;
    let region = region_filter(q.region_code)?;
    let rows = db::run(&state.pool, move |conn| {
        Ok::<_, ApiError>(org::list_unions(
            conn,
            parent.as_ref(),
            region.as_deref(),
            after.as_ref(),
            limit + 1,
        )?)
    })
    .await?;
    let rows = rows.into_iter().map(UnionView::from).collect();
    Ok(HttpResponse::Ok().json(pagination::page(rows, limit, |u: &UnionView| u.id.to_string())))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StationQuery {
    union_id: Option<UnionId>,
    region_code: Option<String>,
    lat: Option<f64>,
    lng: Option<f64>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Stations of a union's subtree or a region; nearest first when `lat`/`lng` are given.
/// Pages by keyset over (distance, id), so a station added or removed between pages
/// neither repeats another nor hides one: the cursor is `<metres>:<id>` of the last item.
pub async fn list_stations(
    state: web::Data<AppState>,
    _principal: Principal,
    query: Query<StationQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let limit = pagination::limit(q.limit)?;
    let after = pagination::cursor(q.cursor.as_deref(), parse_station_cursor)?;
    let union = q.union_id;
    let region = region_filter(q.region_code)?;
    let origin = org::position(q.lat, q.lng)?;
    let rows = db::run(&state.pool, move |conn| {
        let path = match &union {
            Some(id) => Some(org::find_union(conn, id)?.ok_or(ErrorCode::NotFound)?.path),
            None => None,
        };
        Ok::<_, ApiError>(org::stations_under(conn, path.as_deref(), region.as_deref())?)
    })
    .await?;
    let mut views: Vec<StationView> = rows
        .into_iter()
        .map(|(station, union_name)| {
            let distance_m = origin
                .zip(station.lat.zip(station.lng))
                .map(|((lat, lng), (slat, slng))| org::distance_m(lat, lng, slat, slng));
            StationView {
                station,
                union_name,
                distance_m,
            }
        })
        .collect();
    // Without an origin every key is (MAX, id): the order is by id alone. Stations
    // without coordinates go last.
    let key = |v: &StationView| (v.distance_m.unwrap_or(u64::MAX), v.station.id.clone());
    views.sort_by_key(key);
    let rows: Vec<StationView> = views
        .into_iter()
        .filter(|v| after.as_ref().is_none_or(|a| &key(v) > a))
        .take(usize::try_from(limit).unwrap_or(0) + 1)
        .collect();
    Ok(HttpResponse::Ok().json(pagination::page(rows, limit, |v| {
        let (d, id) = key(v);
        format!("{d}:{id}")
    })))
}

fn parse_station_cursor(raw: &str) -> Option<(u64, StationId)> {
    let (d, id) = raw.split_once(':')?;
    Some((d.parse().ok()?, StationId::parse(id)?))
}
