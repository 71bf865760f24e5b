//! `column IN (values)` as a statement of one shape for any number of ids or texts, so that the
//! database keeps it prepared: SQLite reads the values from one JSON text (`json_each`),
//! PostgreSQL from one array. diesel's `eq_any` writes one `?` per value on SQLite, a new
//! statement each time. On PostgreSQL the array is read through a subquery run once before the
//! statement (`= ANY(ARRAY(SELECT unnest($1)))`): a bare `= ANY($1)` let each call's number of
//! values into the plan's estimate, a plan made for one value looked cheaper than the kept one,
//! and the statement was planned anew on every call (a search's hits: 0.1-0.2 ms of planning to
//! read one row).

use diesel::expression::{AppearsOnTable, Expression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{Array, BigInt, Bool, HasSqlType, SqlType, Text};
use diesel::sqlite::Sqlite;
use diesel::{AsExpression, QueryResult, SelectableExpression};

use super::MultiBackend;

/// `column` is one of `values` (`Ids` or `Texts`). Built by [`any_of`] or [`any_text`].
#[derive(Debug, Clone)]
pub struct AnyOf<C, V = Ids> {
    column: C,
    values: V,
}

/// Values bound as one: JSON text on SQLite, an array of `Item` on PostgreSQL.
pub trait Values: ToSql<Text, Sqlite> + ToSql<Array<Self::Item>, Pg> {
    type Item: SqlType + diesel::sql_types::SingleValue;
}

/// The ids as one bound value: JSON text on SQLite (for `json_each`), an array on PostgreSQL
/// (for `= ANY`).
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

impl Values for Ids {
    type Item = BigInt;
}

/// Texts bound as one value, as `Ids`.
#[derive(Debug, Clone)]
pub struct Texts(pub Vec<String>);

impl ToSql<Text, Sqlite> for Texts {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(serde_json::to_string(&self.0)?);
        Ok(IsNull::No)
    }
}

impl ToSql<Array<Text>, Pg> for Texts {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <Vec<String> as ToSql<Array<Text>, Pg>>::to_sql(&self.0, out)
    }
}

impl Values for Texts {
    type Item = Text;
}

/// `column IN (ids)`, prepared once per backend whatever the number of ids.
pub fn any_of<C>(column: C, ids: &[i64]) -> AnyOf<C> {
    AnyOf {
        column,
        values: Ids(ids.to_vec()),
    }
}

/// `column IN (texts)`, as [`any_of`].
pub fn any_text<C>(column: C, texts: &[String]) -> AnyOf<C, Texts> {
    AnyOf {
        column,
        values: Texts(texts.to_vec()),
    }
}

impl<C, V> Expression for AnyOf<C, V> {
    type SqlType = Bool;
}

impl<C: AppearsOnTable<QS>, QS, V> AppearsOnTable<QS> for AnyOf<C, V> {}

impl<C: SelectableExpression<QS>, QS, V> SelectableExpression<QS> for AnyOf<C, V> {}

impl<C: ValidGrouping<G>, G, V> ValidGrouping<G> for AnyOf<C, V> {
    type IsAggregate = C::IsAggregate;
}

impl<C: QueryId + 'static, V: 'static> QueryId for AnyOf<C, V> {
    type QueryId = AnyOf<C::QueryId, V>;
    const HAS_STATIC_QUERY_ID: bool = C::HAS_STATIC_QUERY_ID;
}

impl<C: QueryFragment<Sqlite>, V: Values> QueryFragment<Sqlite> for AnyOf<C, V> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (SELECT value FROM json_each(");
        out.push_bind_param::<Text, _>(&self.values)?;
        out.push_sql("))");
        Ok(())
    }
}

impl<C, V: Values> QueryFragment<MultiBackend> for AnyOf<C, V>
where
    C: QueryFragment<Sqlite> + QueryFragment<Pg>,
    Pg: HasSqlType<V::Item>,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        MultiBackend::walk_variant_ast(self, pass)
    }
}

impl<C: QueryFragment<Pg>, V: Values> QueryFragment<Pg> for AnyOf<C, V>
where
    Pg: HasSqlType<V::Item>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" = ANY(ARRAY(SELECT unnest(");
        out.push_bind_param::<Array<V::Item>, _>(&self.values)?;
        out.push_sql(")))");
        Ok(())
    }
}
