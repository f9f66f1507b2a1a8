//! Micro-wishes (微心愿): what a worker needs, by category, until a voucher of a campaign
//! that targets it is handed over (contract v1.1, "Allocation, delivery, ratings, wishes").

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{memberships, unions, users, wishes};
use crate::db::{is_unique_violation, DbConnection};
use crate::domain::ids::{UserId, VoucherId, WishId};
use crate::domain::profile::Occupation;

crate::text_enum!(
    /// `wishes.category`, the contract's list.
    pub enum WishCategory {
        Warmth => "warmth",
        Food => "food",
        Daily => "daily",
        Health => "health",
        Tools => "tools",
        Other => "other",
    }
);

impl WishCategory {
    /// The category as people read it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Warmth => "防寒保暖",
            Self::Food => "米面粮油",
            Self::Daily => "生活用品",
            Self::Health => "医疗健康",
            Self::Tools => "工作用具",
            Self::Other => "其他",
        }
    }
}

crate::text_enum!(
    /// `wishes.status`: `open` until a matching voucher is redeemed or delivered.
    pub enum WishStatus {
        Open => "open",
        Fulfilled => "fulfilled",
    }
);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = wishes)]
pub struct Wish {
    pub id: WishId,
    pub user_id: UserId,
    pub category: WishCategory,
    pub text: String,
    pub status: WishStatus,
    pub created_at: NaiveDateTime,
    pub fulfilled_at: Option<NaiveDateTime>,
    pub voucher_id: Option<VoucherId>,
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The worker already has an open wish of this category (the partial unique index).
    #[error("an open wish of this category exists")]
    AlreadyOpen,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Files an open wish. Call inside a write transaction.
pub fn file(
    conn: &mut DbConnection,
    user: &UserId,
    category: WishCategory,
    text: &str,
    now: NaiveDateTime,
) -> Result<Wish, FileError> {
    let id = WishId::generate();
    // A savepoint: on PostgreSQL the refused insert would otherwise abort the caller's
    // transaction.
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(wishes::table)
            .values((
                wishes::id.eq(&id),
                wishes::user_id.eq(user),
                wishes::category.eq(category),
                wishes::text.eq(text),
                wishes::status.eq(WishStatus::Open),
                wishes::created_at.eq(now),
            ))
            .execute(conn)
    });
    match inserted {
        Err(e) if is_unique_violation(&e) => return Err(FileError::AlreadyOpen),
        other => other?,
    };
    Ok(wishes::table.find(&id).select(Wish::as_select()).first(conn)?)
}

/// The worker's wishes, newest first (at most 100: one open per category, and a few
/// fulfilled ones).
pub fn mine(conn: &mut DbConnection, user: &UserId) -> QueryResult<Vec<Wish>> {
    wishes::table
        .filter(wishes::user_id.eq(user))
        .order(wishes::id.desc())
        .limit(100)
        .select(Wish::as_select())
        .load(conn)
}

/// The open wish categories of each of `users` (a page of at most a few hundred).
pub fn open_categories(
    conn: &mut DbConnection,
    of: &[UserId],
) -> QueryResult<HashMap<UserId, Vec<WishCategory>>> {
    let rows: Vec<(UserId, WishCategory)> = wishes::table
        .filter(wishes::user_id.eq_any(of))
        .filter(wishes::status.eq(WishStatus::Open))
        .select((wishes::user_id, wishes::category))
        .load(conn)?;
    let mut map: HashMap<UserId, Vec<WishCategory>> = HashMap::new();
    for (user, category) in rows {
        map.entry(user).or_default().push(category);
    }
    Ok(map)
}

/// Marks the holder's open wishes of `categories` fulfilled by `voucher`, each with a
/// conditional update (a wish is fulfilled once); returns the ones this call fulfilled.
/// Call inside the hand-over's transaction.
pub fn fulfil(
    conn: &mut DbConnection,
    user: &UserId,
    categories: &[WishCategory],
    voucher: &VoucherId,
    now: NaiveDateTime,
) -> QueryResult<Vec<Wish>> {
    let open: Vec<Wish> = wishes::table
        .filter(wishes::user_id.eq(user))
        .filter(wishes::category.eq_any(categories))
        .filter(wishes::status.eq(WishStatus::Open))
        .select(Wish::as_select())
        .load(conn)?;
    let mut done = Vec::with_capacity(open.len());
    for mut wish in open {
        let won = diesel::update(
            wishes::table
                .find(&wish.id)
                .filter(wishes::status.eq(WishStatus::Open)),
        )
        .set((
            wishes::status.eq(WishStatus::Fulfilled),
            wishes::fulfilled_at.eq(now),
            wishes::voucher_id.eq(voucher),
        ))
        .execute(conn)?;
        if won == 1 {
            wish.status = WishStatus::Fulfilled;
            wish.fulfilled_at = Some(now);
            done.push(wish);
        }
    }
    Ok(done)
}

/// Open wishes of workers whose current membership lies under `union_path`, counted by
/// category and occupation (`None`: not filled in). One grouped count per occupation, so
/// nothing but counts leaves the database.
pub fn open_counts(
    conn: &mut DbConnection,
    union_path: &str,
) -> QueryResult<Vec<(WishCategory, Option<Occupation>, i64)>> {
    let occupations = Occupation::ALL.iter().copied().map(Some).chain([None]);
    let mut cells = Vec::new();
    for occupation in occupations {
        let mut query = wishes::table
            .inner_join(users::table)
            .inner_join(
                memberships::table.on(memberships::user_id
                    .eq(wishes::user_id)
                    .and(memberships::ended_at.is_null())),
            )
            .inner_join(unions::table.on(unions::id.eq(memberships::union_id)))
            .filter(unions::path.like(format!("{union_path}%")))
            .filter(wishes::status.eq(WishStatus::Open))
            .group_by(wishes::category)
            .select((wishes::category, diesel::dsl::count_star()))
            .into_boxed();
        query = match occupation {
            Some(o) => query.filter(users::occupation.eq(o)),
            None => query.filter(users::occupation.is_null()),
        };
        let counts: Vec<(WishCategory, i64)> = query.load(conn)?;
        cells.extend(counts.into_iter().map(|(c, n)| (c, occupation, n)));
    }
    Ok(cells)
}

/// A reversed hand-over: the wishes `voucher` fulfilled are open again (each in a
/// savepoint; one whose worker has filed a newer open wish of the category stays
/// fulfilled, the newer one already keeps them in the rule). Returns those reopened.
pub fn reopen(conn: &mut DbConnection, voucher: &VoucherId) -> QueryResult<Vec<WishId>> {
    let fulfilled: Vec<WishId> = wishes::table
        .filter(wishes::voucher_id.eq(voucher))
        .filter(wishes::status.eq(WishStatus::Fulfilled))
        .select(wishes::id)
        .load(conn)?;
    let mut reopened = Vec::new();
    for id in fulfilled {
        let updated = conn.transaction(|conn| {
            diesel::update(
                wishes::table
                    .find(&id)
                    .filter(wishes::status.eq(WishStatus::Fulfilled)),
            )
            .set((
                wishes::status.eq(WishStatus::Open),
                wishes::fulfilled_at.eq(None::<NaiveDateTime>),
                wishes::voucher_id.eq(None::<VoucherId>),
            ))
            .execute(conn)
        });
        match updated {
            Ok(1) => reopened.push(id),
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(reopened)
}
