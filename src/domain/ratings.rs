//! Ratings of a hand-over (评价): one per redeemed or delivered voucher, and the figures
//! admins read (count, average, share of full marks), per campaign and per station.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::voucher_ratings as ratings;
use crate::db::{is_unique_violation, DbConnection};
use crate::domain::ids::{CampaignId, StationId, UserId, VoucherId};

/// The top of the 1–5 scale.
pub const FULL_MARKS: i32 = 5;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ratings)]
pub struct Rating {
    pub voucher_id: VoucherId,
    pub user_id: UserId,
    pub campaign_id: CampaignId,
    /// Where it was redeemed or delivered from (the live redemption's station).
    pub station_id: Option<StationId>,
    pub score: i32,
    pub comment: Option<String>,
    pub created_at: NaiveDateTime,
}

/// A rating to store.
pub struct NewRating<'a> {
    pub voucher: &'a VoucherId,
    pub user: &'a UserId,
    pub campaign: &'a CampaignId,
    pub station: Option<&'a StationId>,
    pub score: i32,
    pub comment: Option<&'a str>,
}

#[derive(Debug, thiserror::Error)]
pub enum RateError {
    /// The voucher has its rating (the primary key decides, whatever races).
    #[error("already rated")]
    AlreadyRated,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Stores the rating. Call inside a write transaction.
pub fn insert(conn: &mut DbConnection, r: NewRating<'_>, now: NaiveDateTime) -> Result<Rating, RateError> {
    // A savepoint, so a refused second rating leaves the caller's transaction usable.
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(ratings::table)
            .values((
                ratings::voucher_id.eq(r.voucher),
                ratings::user_id.eq(r.user),
                ratings::campaign_id.eq(r.campaign),
                ratings::station_id.eq(r.station),
                ratings::score.eq(r.score),
                ratings::comment.eq(r.comment),
                ratings::created_at.eq(now),
            ))
            .execute(conn)
    });
    match inserted {
        Err(e) if is_unique_violation(&e) => return Err(RateError::AlreadyRated),
        other => other?,
    };
    Ok(ratings::table
        .find(r.voucher)
        .select(Rating::as_select())
        .first(conn)?)
}

/// A reversed hand-over's rating goes with it (it rated a hand-over that did not stand);
/// true when there was one.
pub fn remove(conn: &mut DbConnection, voucher: &VoucherId) -> QueryResult<bool> {
    Ok(diesel::delete(ratings::table.find(voucher)).execute(conn)? == 1)
}

/// Ratings of a campaign as `(station, score, count)`.
pub fn counts(
    conn: &mut DbConnection,
    campaign: &CampaignId,
) -> QueryResult<Vec<(Option<StationId>, i32, i64)>> {
    ratings::table
        .filter(ratings::campaign_id.eq(campaign))
        .group_by((ratings::station_id, ratings::score))
        .select((ratings::station_id, ratings::score, diesel::dsl::count_star()))
        .load(conn)
}

/// `{count, average, full_marks_share}`: average and share are `null` with no ratings;
/// the share is the fraction (0–1) of ratings at full marks.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RatingSummary {
    pub count: i64,
    pub average: Option<f64>,
    pub full_marks_share: Option<f64>,
}

impl RatingSummary {
    /// Summarises `(score, count)` pairs.
    pub fn of(scores: impl IntoIterator<Item = (i32, i64)>) -> Self {
        let (mut count, mut sum, mut full) = (0_i64, 0_i64, 0_i64);
        for (score, n) in scores {
            count += n;
            sum += i64::from(score) * n;
            if score == FULL_MARKS {
                full += n;
            }
        }
        if count == 0 {
            return Self::default();
        }
        // Counts of ratings stay far below 2^52, so the division is exact enough.
        #[allow(clippy::cast_precision_loss)]
        let (count_f, sum_f, full_f) = (count as f64, sum as f64, full as f64);
        Self {
            count,
            average: Some((sum_f / count_f * 1000.0).round() / 1000.0),
            full_marks_share: Some((full_f / count_f * 10000.0).round() / 10000.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_scores() {
        let s = RatingSummary::of([(5, 2), (3, 1)]);
        assert_eq!(s.count, 3);
        assert_eq!(s.average, Some(4.333));
        assert_eq!(s.full_marks_share, Some(0.6667));
        assert_eq!(RatingSummary::of([]).average, None);
    }
}
