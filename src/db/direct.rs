//! Reads run on the inner connection itself, not through `DbConnection`.
//!
//! Why: diesel's `MultiConnection` wraps every query in a `SerializedQuery` whose AST walk
//! writes the whole SQL out again for each pass diesel makes over it (the cache check and
//! the bind collection), even when the prepared statement is found by the query's type.
//! For the eligibility check's one wide read that was a quarter of the service's CPU
//! (`perf` during bench P4; README, "Performance", step 15). On the inner connection the
//! same query, built by the same DSL for both backends, is found by its type and only its
//! binds are collected. Used by the reads of every hot path: the standing read
//! (eligibility checks and claims), the counter's voucher read, and the session check
//! when it is not remembered.

use diesel::query_dsl::methods::LoadQuery;
use diesel::{PgConnection, QueryResult, RunQueryDsl, SqliteConnection};

use super::DbConnection;

/// `query.get_result(conn)` on whichever backend `conn` is: its one row, or `NotFound`
/// (`.optional()` makes that `None`).
pub fn get_result<'q, Q, T>(conn: &mut DbConnection, query: Q) -> QueryResult<T>
where
    Q: RunQueryDsl<PgConnection>
        + RunQueryDsl<SqliteConnection>
        + LoadQuery<'q, PgConnection, T>
        + LoadQuery<'q, SqliteConnection, T>,
{
    match conn {
        DbConnection::Postgres(pg) => RunQueryDsl::<PgConnection>::get_result(query, pg),
        DbConnection::Sqlite(lite) => RunQueryDsl::<SqliteConnection>::get_result(query, lite),
    }
}

/// The columns `T` selects, as one expression for either backend: `T::as_select()` ties
/// the query's type to one backend. The row loads into `T` by its `Queryable` derive
/// (same fields, same order as `Selectable`'s).
pub fn columns<T: diesel::Selectable<diesel::pg::Pg>>() -> T::SelectExpression {
    T::construct_selection()
}
