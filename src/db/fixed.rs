//! Hand-written statements that stay prepared on their connection.
//!
//! Why: diesel's `sql_query` (like its `UPDATE` and `sql` literals) marks a statement
//! unsafe to cache, so PostgreSQL parses and plans it on every call (and SQLite compiles
//! it). For the hot path's one-statement claim that planning cost more CPU than executing
//! it. A `Fixed` statement is cached by its text in diesel's per-connection statement
//! cache, like the query builder's own statements. Written for PostgreSQL's hot paths;
//! SQLite runs the portable ones too.

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Integer, Nullable, Text, Timestamp, Untyped};
use diesel::sqlite::Sqlite;
use diesel::{PgConnection, QueryResult, QueryableByName, RunQueryDsl, SqliteConnection};

use crate::db::DbConnection;

/// One bind value of a `Fixed` statement.
#[derive(Debug, Clone, Copy)]
pub enum Bind<'a> {
    /// `TEXT`.
    Text(&'a str),
    /// `TEXT`, or `NULL` for `None`.
    NullableText(Option<&'a str>),
    /// `INTEGER`.
    Int(i32),
    /// `TIMESTAMP` (UTC, without zone, as every stored time).
    Time(NaiveDateTime),
}

/// A statement of fixed text in which each `?` stands for the next of `binds` (each use
/// of a value is a bind of its own). Load rows with `QueryableByName` types.
#[derive(Debug)]
pub struct Fixed<'a> {
    sql: &'a str,
    binds: Vec<Bind<'a>>,
}

impl<'a> Fixed<'a> {
    /// `sql` with one `?` per value in `binds`, in order (checked when the statement is
    /// run, before anything is sent). A text built at run time (`rule_sql`) is cached
    /// like a constant one: by its text.
    pub fn new(sql: &'a str, binds: Vec<Bind<'a>>) -> Self {
        Self { sql, binds }
    }
}

impl Fixed<'_> {
    /// The one row the statement returns, on whichever backend `conn` is
    /// (`NotFound` when none; `.optional()` makes that `None`).
    pub fn get_result_on<T>(self, conn: &mut DbConnection) -> QueryResult<T>
    where
        T: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static,
    {
        match conn {
            DbConnection::Postgres(pg) => self.get_result(pg),
            DbConnection::Sqlite(lite) => self.get_result(lite),
        }
    }
}

/// The same walk for each backend (PostgreSQL numbers the placeholders, SQLite keeps `?`).
macro_rules! walk_for {
    ($backend:ty, $conn:ty) => {
        impl QueryFragment<$backend> for Fixed<'_> {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, $backend>) -> QueryResult<()> {
                let mut parts = self.sql.split('?');
                if parts.clone().count() != self.binds.len() + 1 {
                    return Err(diesel::result::Error::QueryBuilderError(
                        "a fixed statement's placeholders and binds differ in number".into(),
                    ));
                }
                out.push_sql(parts.next().unwrap_or_default());
                for (bind, part) in self.binds.iter().zip(parts) {
                    match bind {
                        Bind::Text(v) => out.push_bind_param::<Text, str>(v)?,
                        Bind::NullableText(v) => out.push_bind_param::<Nullable<Text>, Option<&str>>(v)?,
                        Bind::Int(v) => out.push_bind_param::<Integer, i32>(v)?,
                        Bind::Time(v) => out.push_bind_param::<Timestamp, NaiveDateTime>(v)?,
                    }
                    out.push_sql(part);
                }
                Ok(())
            }
        }

        impl RunQueryDsl<$conn> for Fixed<'_> {}
    };
}

walk_for!(Pg, PgConnection);
walk_for!(Sqlite, SqliteConnection);

// Not a static query id: diesel then caches the statement by its text and bind types.
impl QueryId for Fixed<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Fixed<'_> {
    type SqlType = Untyped;
}
