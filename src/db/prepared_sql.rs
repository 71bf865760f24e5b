//! SQL text with bound values, as an expression or a one-column statement that diesel keeps
//! prepared: its `sql()` literals and `sql_query` mark a statement as never to be cached, so
//! each call was parsed (on SQLite 38% of a search) and planned (PostgreSQL) anew. The text is
//! `'static`: the code fixes a statement's shape, never a value.

use std::marker::PhantomData;

use chrono::NaiveDateTime;

use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::expression::{
    AppearsOnTable, Expression, SelectableExpression, TypedExpressionType, ValidGrouping,
    is_aggregate,
};
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Text, Timestamp};
use diesel::{RunQueryDsl, sql_types::SqlType};

/// Text and bound values of type `ST` (built by [`prepared`]).
#[derive(Debug, Clone)]
pub struct PreparedSql<ST> {
    parts: Vec<Part>,
    sql_type: PhantomData<ST>,
}

#[derive(Debug, Clone)]
enum Part {
    Sql(&'static str),
    Text(String),
    BigInt(i64),
    Timestamp(NaiveDateTime),
}

/// `text`, to be followed by binds and more text.
pub fn prepared<ST>(text: &'static str) -> PreparedSql<ST> {
    PreparedSql {
        parts: vec![Part::Sql(text)],
        sql_type: PhantomData,
    }
}

impl<ST> PreparedSql<ST> {
    /// More text.
    pub fn sql(mut self, text: &'static str) -> Self {
        self.parts.push(Part::Sql(text));
        self
    }

    /// A text value, bound.
    pub fn text(mut self, value: impl Into<String>) -> Self {
        self.parts.push(Part::Text(value.into()));
        self
    }

    /// A number, bound.
    pub fn big_int(mut self, value: i64) -> Self {
        self.parts.push(Part::BigInt(value));
        self
    }

    /// A time, bound.
    pub fn timestamp(mut self, value: NaiveDateTime) -> Self {
        self.parts.push(Part::Timestamp(value));
        self
    }
}

impl<ST: SqlType + TypedExpressionType> Expression for PreparedSql<ST> {
    type SqlType = ST;
}

impl<ST, QS> AppearsOnTable<QS> for PreparedSql<ST> where Self: Expression {}

impl<ST, QS> SelectableExpression<QS> for PreparedSql<ST> where Self: Expression {}

impl<ST> ValidGrouping<()> for PreparedSql<ST> {
    type IsAggregate = is_aggregate::Never;
}

/// Told apart by their SQL (the text varies with the code path, not with the values).
impl<ST> QueryId for PreparedSql<ST> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST, DB> QueryFragment<DB> for PreparedSql<ST>
where
    DB: Backend + HasSqlType<Text> + HasSqlType<BigInt> + HasSqlType<Timestamp>,
    String: ToSql<Text, DB>,
    i64: ToSql<BigInt, DB>,
    NaiveDateTime: ToSql<Timestamp, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        for part in &self.parts {
            match part {
                Part::Sql(text) => out.push_sql(text),
                Part::Text(value) => out.push_bind_param::<Text, String>(value)?,
                Part::BigInt(value) => out.push_bind_param::<BigInt, i64>(value)?,
                Part::Timestamp(value) => {
                    out.push_bind_param::<Timestamp, NaiveDateTime>(value)?;
                }
            }
        }
        Ok(())
    }
}

/// A whole statement of one column of type `ST`.
impl<ST: SqlType + TypedExpressionType> Query for PreparedSql<ST> {
    type SqlType = ST;
}

impl<ST, Conn> RunQueryDsl<Conn> for PreparedSql<ST> {}
