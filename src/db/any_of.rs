//! `column IN (ids)` as a statement of one shape for any number of ids, so that the database keeps
//! it prepared: SQLite reads the ids from one JSON text (`json_each`), PostgreSQL from one array
//! (`= ANY($1)`). diesel's `eq_any` writes one `?` per id on SQLite, a new statement each time.

use diesel::expression::{AppearsOnTable, Expression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{Array, BigInt, Bool, Text};
use diesel::sqlite::Sqlite;
use diesel::{AsExpression, QueryResult, SelectableExpression};

use super::MultiBackend;

/// `column` is one of `ids`. Built by [`any_of`]; used on a concrete connection (see `native!`).
#[derive(Debug, Clone)]
pub struct AnyOf<C> {
    column: C,
    ids: Ids,
}

/// The ids as one bound value: JSON text on SQLite (for `json_each`), an array on PostgreSQL
/// (for `= ANY`); also a bind of a hand-written statement (`sql_query(..).bind::<Text, _>`).
#[derive(Debug, Clone, AsExpression)]
#[diesel(sql_type = Text)]
#[diesel(sql_type = Array<BigInt>)]
pub struct Ids(pub Vec<i64>);

impl ToSql<Text, Sqlite> for Ids {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        let json: Vec<String> = self.0.iter().map(i64::to_string).collect();
        out.set_value(format!("[{}]", json.join(",")));
        Ok(IsNull::No)
    }
}

impl ToSql<Array<BigInt>, Pg> for Ids {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <Vec<i64> as ToSql<Array<BigInt>, Pg>>::to_sql(&self.0, out)
    }
}

/// `column IN (ids)`, prepared once per backend whatever the number of ids.
pub fn any_of<C>(column: C, ids: &[i64]) -> AnyOf<C> {
    AnyOf {
        column,
        ids: Ids(ids.to_vec()),
    }
}

impl<C> Expression for AnyOf<C> {
    type SqlType = Bool;
}

impl<C: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for AnyOf<C> {}

impl<C: SelectableExpression<QS>, QS> SelectableExpression<QS> for AnyOf<C> {}

impl<C: ValidGrouping<G>, G> ValidGrouping<G> for AnyOf<C> {
    type IsAggregate = C::IsAggregate;
}

impl<C: QueryId + 'static> QueryId for AnyOf<C> {
    type QueryId = AnyOf<C::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = C::HAS_STATIC_QUERY_ID;
}

impl<C: QueryFragment<Sqlite>> QueryFragment<Sqlite> for AnyOf<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (SELECT value FROM json_each(");
        out.push_bind_param::<Text, _>(&self.ids)?;
        out.push_sql("))");
        Ok(())
    }
}

impl<C> QueryFragment<MultiBackend> for AnyOf<C>
where
    C: QueryFragment<Sqlite> + QueryFragment<Pg>,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        MultiBackend::walk_variant_ast(self, pass)
    }
}

impl<C: QueryFragment<Pg>> QueryFragment<Pg> for AnyOf<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" = ANY(");
        out.push_bind_param::<Array<BigInt>, _>(&self.ids)?;
        out.push_sql(")");
        Ok(())
    }
}
