//! A text constant written into a statement's SQL instead of bound as a parameter.
//!
//! Why: PostgreSQL caches a generic plan for a prepared statement, and a generic plan can
//! use a partial index (`… WHERE status = 'pending'`) only when the statement states the
//! index's predicate literally; with the value as a parameter it scans the table. Unlike
//! diesel's `sql` literal this keeps the statement cacheable.

use diesel::backend::Backend;
use diesel::expression::{is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::Text;
use diesel::QueryResult;

/// `'value'` in the SQL. Only for constants of the code (a status name): never for input.
#[derive(Debug, Clone, Copy)]
pub struct Literal(&'static str);

impl Literal {
    /// The constant `value`, which must not contain a quote (refused when the statement is
    /// built).
    pub const fn text(value: &'static str) -> Self {
        Self(value)
    }
}

impl Expression for Literal {
    type SqlType = Text;
}

impl<QS> AppearsOnTable<QS> for Literal {}

impl<QS> SelectableExpression<QS> for Literal {}

impl<G> ValidGrouping<G> for Literal {
    type IsAggregate = is_aggregate::Never;
}

impl<DB: Backend> QueryFragment<DB> for Literal {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if self.0.contains('\'') {
            return Err(diesel::result::Error::QueryBuilderError(
                "a SQL literal must not contain a quote".into(),
            ));
        }
        out.push_sql("'");
        out.push_sql(self.0);
        out.push_sql("'");
        Ok(())
    }
}

// Not a static query id: two statements differing only in a literal must not share a
// cached statement, so diesel caches them by their text.
impl QueryId for Literal {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}
