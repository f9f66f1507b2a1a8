//! Micro-wishes (微心愿): a worker files one per category; a hand-over of a voucher of a
//! campaign whose rules target that category fulfils it and tells the worker.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{changes, notices};
use crate::db::schema::campaigns;
use crate::db::DbConnection;
use crate::domain::ids::UserId;
use crate::domain::invalid::Invalid;
use crate::domain::rules::Rule;
use crate::domain::vouchers::Voucher;
use crate::domain::wishes::{self, FileError, Wish, WishCategory};

/// `POST /me/wishes`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewWish {
    pub category: WishCategory,
    /// What is wished for, 1–200 characters.
    pub text: String,
}

/// Why a wish is refused.
#[derive(Debug, thiserror::Error)]
pub enum WishRefusal {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// An open wish of this category exists (one per category).
    #[error("an open wish of this category exists")]
    AlreadyOpen,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Files the worker's wish, audited (the category, not the words). Call inside a write
/// transaction.
pub fn file(
    conn: &mut DbConnection,
    worker: &UserId,
    b: &NewWish,
    now: NaiveDateTime,
) -> Result<Wish, WishRefusal> {
    let text = super::text(&b.text, "text", 200)?;
    let wish = wishes::file(conn, worker, b.category, &text, now).map_err(|e| match e {
        FileError::AlreadyOpen => WishRefusal::AlreadyOpen,
        FileError::Database(e) => WishRefusal::Database(e),
    })?;
    let data = json!({"category": wish.category});
    let by = Some(worker.as_str());
    changes::audited(
        conn,
        by,
        "wish.filed",
        ("wish", wish.id.as_str()),
        None,
        data,
        now,
    )?;
    Ok(wish)
}

/// Whether stored rules (JSON) may name a micro-wish: a cheap test before parsing them.
pub fn names_wishes(stored_rules: &str) -> bool {
    stored_rules.contains("\"wished\"")
}

/// After `voucher` was redeemed or delivered: the holder's open wishes of the categories
/// its campaign's `wished` rules name are fulfilled, each with a notification and an
/// audit entry. Call inside the hand-over's transaction.
pub fn fulfil_by(conn: &mut DbConnection, voucher: &Voucher, now: NaiveDateTime) -> QueryResult<()> {
    let stored: String = campaigns::table
        .find(&voucher.campaign_id)
        .select(campaigns::rules)
        .first(conn)?;
    // Most campaigns target no wish: skip parsing their rules on every redemption.
    if !names_wishes(&stored) {
        return Ok(());
    }
    let rules: Vec<Rule> = serde_json::from_str(&stored)
        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
    let categories: Vec<WishCategory> = rules
        .iter()
        .filter_map(|r| match r {
            Rule::Wished { category } => Some(*category),
            _ => None,
        })
        .collect();
    for wish in wishes::fulfil(conn, &voucher.user_id, &categories, &voucher.id, now)? {
        notices::wish_fulfilled(conn, &voucher.id, &wish.text, now)?;
        let data = json!({"voucher_id": voucher.id, "category": wish.category});
        changes::audited(
            conn,
            None,
            "wish.fulfilled",
            ("wish", wish.id.as_str()),
            None,
            data,
            now,
        )?;
    }
    Ok(())
}
