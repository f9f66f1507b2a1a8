//! `?limit=&cursor=` lists answering `{"items": [...], "next_cursor": ...}`.

use serde::{Deserialize, Serialize};

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
pub struct PageQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The page size asked for: default 20, at most 100.
pub fn limit(raw: Option<i64>) -> Result<i64, ApiError> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::invalid(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        ))),
    }
}

/// A keyset cursor: the id of the last item seen.
pub fn cursor<T>(raw: Option<&str>, parse: impl Fn(&str) -> Option<T>) -> Result<Option<T>, ApiError> {
    raw.map(|c| parse(c).ok_or_else(|| ApiError::invalid("cursor is not valid")))
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
