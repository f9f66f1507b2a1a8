//! `?limit=&cursor=` lists answering `{"items": [...], "next_cursor": ...}`.

use serde::{Deserialize, Serialize};

use crate::domain::invalid::Invalid;
use crate::error::ApiError;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// `?limit=&cursor=` for lists that take no other filter.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The page size asked for: default 20, at most 100.
pub fn limit(raw: Option<i64>) -> Result<i64, ApiError> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(Invalid::new("limit", format!("应在 1 到 {MAX_LIMIT} 之间")).into()),
    }
}

/// A keyset cursor: the id of the last item seen.
pub fn cursor<T>(raw: Option<&str>, parse: impl Fn(&str) -> Option<T>) -> Result<Option<T>, ApiError> {
    raw.map(|c| {
        parse(c).ok_or_else(|| ApiError::from(Invalid::new("cursor", "翻页位置无效，请从第一页重新开始")))
    })
    .transpose()
}

/// Builds a page from up to `limit + 1` rows (the extra row says there is more).
pub fn page<T>(mut rows: Vec<T>, limit: i64, cursor_of: impl Fn(&T) -> String) -> Page<T> {
    // `limit` comes from `limit()`: 1..=MAX_LIMIT, so it fits.
    let limit = usize::try_from(limit).unwrap_or(0);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = if more { rows.last().map(cursor_of) } else { None };
    Page {
        items: rows,
        next_cursor,
    }
}

/// A page of a short list already in memory, in the order given (`descending` when keys
/// fall), by keyset: the cursor is the last key seen and must parse as `parse` says.
pub fn page_in_memory<T>(
    items: Vec<T>,
    q: &PageQuery,
    descending: bool,
    key: impl Fn(&T) -> String,
    parse: impl Fn(&str) -> bool,
) -> Result<Page<T>, ApiError> {
    let limit = limit(q.limit)?;
    let after = cursor(q.cursor.as_deref(), |c| parse(c).then(|| c.to_owned()))?;
    let take = usize::try_from(limit).unwrap_or(0) + 1;
    let rows: Vec<T> = items
        .into_iter()
        .filter(|t| match &after {
            None => true,
            Some(a) if descending => &key(t) < a,
            Some(a) => &key(t) > a,
        })
        .take(take)
        .collect();
    Ok(page(rows, limit, key))
}

/// The key of a JSON item by `field` (for `page_in_memory` over rendered views).
pub fn json_key(field: &'static str) -> impl Fn(&serde_json::Value) -> String {
    move |v| v[field].as_str().unwrap_or_default().to_owned()
}

/// Whether a cursor is a UUID (the ids lists page by).
pub fn is_uuid(raw: &str) -> bool {
    uuid::Uuid::try_parse(raw).is_ok()
}
