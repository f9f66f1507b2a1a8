//! A text constant written into a statement's SQL instead of bound as a parameter.
//!
//! Why: PostgreSQL caches a generic plan for a prepared statement, and a generic plan can
//! use a partial index (`… WHERE status = 'pending'`) only when the statement states the
//! index's predicate literally; with the value as a parameter it scans the table. Unlike
//! diesel's `sql` literal this keeps the statement cacheable.

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::expression::{is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::Text;
use diesel::QueryResult;

/// A text constant of the code (a status name), named by a type so that a statement
/// holding it keeps a static query id: diesel then finds the statement in its cache by
/// type, without writing the SQL out on every call. Never for input.
pub trait Constant: 'static {
    /// The text, which must not contain a quote (refused when the statement is built).
    const TEXT: &'static str;
}

/// `'C::TEXT'` in the SQL.
#[derive(Debug)]
pub struct Literal<C>(PhantomData<C>);

impl<C: Constant> Literal<C> {
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<C: Constant> Default for Literal<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C> Clone for Literal<C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C> Copy for Literal<C> {}

impl<C: Constant> Expression for Literal<C> {
    type SqlType = Text;
}

impl<C: Constant, QS> AppearsOnTable<QS> for Literal<C> {}

impl<C: Constant, QS> SelectableExpression<QS> for Literal<C> {}

impl<C: Constant, G> ValidGrouping<G> for Literal<C> {
    type IsAggregate = is_aggregate::Never;
}

impl<C: Constant, DB: Backend> QueryFragment<DB> for Literal<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if C::TEXT.contains('\'') {
            return Err(diesel::result::Error::QueryBuilderError(
                "a SQL literal must not contain a quote".into(),
            ));
        }
        out.push_sql("'");
        out.push_sql(C::TEXT);
        out.push_sql("'");
        Ok(())
    }
}

// Static: each constant is its own type, so two statements differing only in a literal
// have different query ids and never share a cached statement.
impl<C: Constant> QueryId for Literal<C> {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}
