//! A column whose SQL is a fixed text (a subquery), as an expression diesel keeps prepared:
//! statements holding diesel's `sql()` literals are never cached, so each call was parsed and
//! planned anew (on PostgreSQL a third of the list's time).

use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::expression::{
    AppearsOnTable, Expression, SelectableExpression, TypedExpressionType, ValidGrouping,
    is_aggregate,
};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::SqlType;

/// The text, type and table of a [`Fixed`] column.
pub trait FixedSql: Copy + Default + 'static {
    type SqlType: SqlType + TypedExpressionType;
    /// A column of the table whose rows it may be selected with (a correlated subquery names
    /// that table's columns): it goes wherever that column may.
    type Beside;
    const SQL: &'static str;
}

/// The column `T::SQL`, selectable wherever `T::Beside` is.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fixed<T>(pub T);

impl<T: FixedSql> Expression for Fixed<T> {
    type SqlType = T::SqlType;
}

impl<T: FixedSql, QS> AppearsOnTable<QS> for Fixed<T> where T::Beside: AppearsOnTable<QS> {}

impl<T: FixedSql, QS> SelectableExpression<QS> for Fixed<T> where T::Beside: SelectableExpression<QS>
{}

impl<T> ValidGrouping<()> for Fixed<T> {
    type IsAggregate = is_aggregate::Never;
}

impl<T: FixedSql> QueryId for Fixed<T> {
    type QueryId = T;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<T: FixedSql, DB: Backend> QueryFragment<DB> for Fixed<T> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(T::SQL);
        Ok(())
    }
}
