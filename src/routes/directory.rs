//! The public directory of unions and stations.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::auth::Principal;
use crate::db;
use crate::domain::ids::UnionId;
use crate::domain::org;
use crate::error::{ApiError, ErrorCode};
use crate::http::pagination::{self, Page};
use crate::state::AppState;
use crate::views::org::{StationView, UnionView};

#[derive(Debug, Deserialize)]
pub struct UnionQuery {
    parent_id: Option<String>,
    region_code: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

fn region_filter(raw: Option<String>) -> Result<Option<String>, ApiError> {
    match raw {
        Some(r) if (2..=6).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(r)),
        Some(_) => Err(ApiError::invalid("region_code must be 2-6 digits")),
        None => Ok(None),
    }
}

pub async fn list_unions(
    state: web::Data<AppState>,
    _principal: Principal,
    query: web::Query<UnionQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let limit = pagination::limit(q.limit)?;
    let after = pagination::cursor(q.cursor.as_deref(), UnionId::parse)?;
    let parent = pagination::cursor(q.parent_id.as_deref(), UnionId::parse)?;
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
pub struct StationQuery {
    union_id: Option<String>,
    region_code: Option<String>,
    lat: Option<f64>,
    lng: Option<f64>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Stations of a union's subtree or a region; nearest first when `lat`/`lng` are given.
/// The cursor is an offset: the directory is small and its order may be by distance.
pub async fn list_stations(
    state: web::Data<AppState>,
    _principal: Principal,
    query: web::Query<StationQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let limit = pagination::limit(q.limit)?;
    let offset = pagination::cursor(q.cursor.as_deref(), |c| c.parse::<usize>().ok())?.unwrap_or(0);
    let union = pagination::cursor(q.union_id.as_deref(), UnionId::parse)?;
    let region = region_filter(q.region_code)?;
    let origin = match (q.lat, q.lng) {
        (Some(lat), Some(lng)) if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lng) => {
            Some((lat, lng))
        }
        (None, None) => None,
        _ => {
            return Err(ApiError::invalid(
                "lat and lng must both be given, within ±90 and ±180",
            ))
        }
    };
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
    if origin.is_some() {
        // Stations without coordinates go last.
        views.sort_by_key(|v| v.distance_m.unwrap_or(u64::MAX));
    }
    let total = views.len();
    let take = usize::try_from(limit).unwrap_or(0);
    let items: Vec<StationView> = views.into_iter().skip(offset).take(take).collect();
    let end = offset + items.len();
    let next_cursor = (end < total).then(|| end.to_string());
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}
