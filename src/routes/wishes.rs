//! Micro-wishes (微心愿): a worker's own, and the counts an office plans goods by.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::wishes::{self as app, NewWish};
use crate::auth::scope::AdminScope;
use crate::auth::Principal;
use crate::db;
use crate::domain::ids::UnionId;
use crate::domain::now;
use crate::domain::utc;
use crate::domain::wishes::{self, Wish, WishCategory};
use crate::error::ApiError;
use crate::http::json::{Json, Query};
use crate::state::AppState;

fn view(w: &Wish) -> Value {
    json!({
        "id": w.id, "category": w.category, "category_label": w.category.label(), "text": w.text,
        "status": w.status, "created_at": utc(w.created_at), "fulfilled_at": w.fulfilled_at.map(utc),
    })
}

/// `POST /me/wishes` `{category, text}` → 201; a second open wish of a category → 409.
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<NewWish>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let wish = db::transaction(&state.pool, move |conn| {
        Ok::<_, ApiError>(app::file(conn, &principal.user_id, &body, now())?)
    })
    .await?;
    Ok(HttpResponse::Created().json(view(&wish)))
}

/// `GET /me/wishes`: the worker's wishes, newest first.
pub async fn mine(state: web::Data<AppState>, principal: Principal) -> Result<HttpResponse, ApiError> {
    let items = db::run(&state.pool, move |conn| {
        Ok::<_, ApiError>(wishes::mine(conn, &principal.user_id)?)
    })
    .await?;
    let items: Vec<Value> = items.iter().map(view).collect();
    Ok(HttpResponse::Ok().json(json!({"items": items})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryQuery {
    union_id: Option<UnionId>,
}

/// `GET /admin/wishes/summary?union_id=`: open wishes of the subtree's members by
/// category and by occupation, and each (category, occupation) cell. No names, no words.
pub async fn summary(
    state: web::Data<AppState>,
    principal: Principal,
    q: Query<SummaryQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let (union, cells) = db::run(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        let (union, path) = match (&q.union_id, &scope) {
            (Some(id), _) => {
                let u = scope.union(conn, id)?;
                (Some(u.id), u.path)
            }
            (None, AdminScope::Subtree { union_id, path, .. }) => (Some(union_id.clone()), path.clone()),
            (None, AdminScope::Platform { .. }) => (None, "/".to_owned()),
        };
        Ok::<_, ApiError>((union, wishes::open_counts(conn, &path)?))
    })
    .await?;
    let mut by_category: Vec<Value> = Vec::new();
    for c in WishCategory::ALL {
        let n: i64 = cells.iter().filter(|(k, _, _)| k == c).map(|(_, _, n)| n).sum();
        if n > 0 {
            by_category.push(json!({"category": c, "label": c.label(), "count": n}));
        }
    }
    let mut by_occupation: std::collections::BTreeMap<Option<&str>, i64> = Default::default();
    for (_, o, n) in &cells {
        *by_occupation.entry(o.map(|o| o.as_str())).or_default() += n;
    }
    let by_occupation: Vec<Value> = by_occupation
        .into_iter()
        .map(|(o, n)| json!({"occupation": o, "count": n}))
        .collect();
    let open: i64 = cells.iter().map(|(_, _, n)| n).sum();
    let cells: Vec<Value> = cells
        .iter()
        .map(|(c, o, n)| json!({"category": c, "occupation": o, "count": n}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "union_id": union, "open": open, "by_category": by_category,
        "by_occupation": by_occupation, "cells": cells,
    })))
}
