//! A worker rates the hand-over of their own voucher once it is redeemed or delivered
//! (contract v1.1: 201; before → `VOUCHER_NOT_REDEEMED`; again → `ALREADY_RATED`).

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::changes;
use crate::db::DbConnection;
use crate::domain::ids::{UserId, VoucherId};
use crate::domain::invalid::Invalid;
use crate::domain::ratings::{self, NewRating, RateError, Rating};
use crate::domain::voucher_reads;
use crate::domain::vouchers::VoucherStatus;

/// `POST /me/vouchers/{id}/rating`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RatingInput {
    /// 1 to 5.
    pub score: i32,
    /// Up to 500 characters.
    #[serde(default)]
    pub comment: Option<String>,
}

/// Why a rating is refused.
#[derive(Debug, thiserror::Error)]
pub enum RatingRefusal {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// No such voucher, or another worker's.
    #[error("no such voucher")]
    NotFound,
    /// Not redeemed or delivered (yet).
    #[error("voucher not redeemed")]
    NotRedeemed,
    #[error("already rated")]
    AlreadyRated,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Stores the worker's rating of their voucher, audited with its score (not its words).
/// Call inside a write transaction.
pub fn rate(
    conn: &mut DbConnection,
    worker: &UserId,
    id: &VoucherId,
    b: &RatingInput,
    now: NaiveDateTime,
) -> Result<Rating, RatingRefusal> {
    if !(1..=ratings::FULL_MARKS).contains(&b.score) {
        return Err(Invalid::new("score", "评分应为 1 到 5 之间的整数").into());
    }
    let comment = b
        .comment
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .map(|c| super::text(c, "comment", 500))
        .transpose()?;
    let ((voucher, _, _), live) = voucher_reads::owned(conn, worker, id)?.ok_or(RatingRefusal::NotFound)?;
    if voucher.status != VoucherStatus::Redeemed {
        return Err(RatingRefusal::NotRedeemed);
    }
    let station = live.map(|r| r.station);
    let new = NewRating {
        voucher: &voucher.id,
        user: worker,
        campaign: &voucher.campaign_id,
        station: station.as_ref(),
        score: b.score,
        comment: comment.as_deref(),
    };
    let rating = ratings::insert(conn, new, now).map_err(|e| match e {
        RateError::AlreadyRated => RatingRefusal::AlreadyRated,
        RateError::Database(e) => RatingRefusal::Database(e),
    })?;
    let data = json!({"score": rating.score});
    changes::audited(
        conn,
        Some(worker.as_str()),
        "voucher.rated",
        ("voucher", id.as_str()),
        None,
        data,
        now,
    )?;
    Ok(rating)
}
