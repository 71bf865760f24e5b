//! `column IN (subquery)` for a subquery with boxed conditions on `DbConn` (diesel's `eq_any`
//! asks such a subquery to be SQL of each backend apart, which a boxed `MultiBackend` query is
//! not).

use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::Bool;

/// `column IN (query)`. Built by [`in_query`].
#[derive(Debug, Clone)]
pub struct InQuery<C, Q> {
    column: C,
    query: Q,
}

/// `column IN (query)`, `query` a statement of one column.
pub fn in_query<C, Q>(column: C, query: Q) -> InQuery<C, Q> {
    InQuery { column, query }
}

impl<C, Q> Expression for InQuery<C, Q> {
    type SqlType = Bool;
}

impl<C: AppearsOnTable<QS>, Q, QS> AppearsOnTable<QS> for InQuery<C, Q> {}

impl<C: SelectableExpression<QS>, Q, QS> SelectableExpression<QS> for InQuery<C, Q> {}

impl<C: ValidGrouping<G>, Q, G> ValidGrouping<G> for InQuery<C, Q> {
    type IsAggregate = C::IsAggregate;
}

/// Told apart by their SQL, as the boxed queries inside them.
impl<C, Q> QueryId for InQuery<C, Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C: QueryFragment<DB>, Q: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for InQuery<C, Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (");
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}
