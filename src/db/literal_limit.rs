//! `LIMIT n` written into a statement's text rather than bound. PostgreSQL keeps one plan for a
//! prepared statement (a generic plan) only when it does not look dearer than the plans it makes
//! for each call's values; with a bound limit the generic plan expects a tenth of the table, so
//! a page of 50 rows was planned anew on every call (0.15 ms of PostgreSQL's time per list page).
//! An OFFSET, which does vary, is bound behind a subquery (`with_offset`) for the same reason: a
//! value the planner sees makes its plan for a small one look cheaper than the generic plan's
//! guess (a tenth of the rows), and the statement was planned at every call; hidden, every plan
//! is costed with that guess and the generic one is kept.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::BigInt;
use diesel::{QueryResult, RunQueryDsl};

/// `query LIMIT n`, the number in the text, and an OFFSET bound out of the planner's sight
/// (`with_offset`). Built by [`literal_limit`]; `query` must have no limit or offset of its own.
#[derive(Debug, Clone)]
pub struct LiteralLimit<Q> {
    query: Q,
    limit: i64,
    offset: Option<i64>,
}

/// `query` limited to `limit` rows, the number written into the statement (one prepared
/// statement per distinct limit: use it for the few fixed page sizes, not for any number).
pub fn literal_limit<Q>(query: Q, limit: i64) -> LiteralLimit<Q> {
    LiteralLimit {
        query,
        limit,
        offset: None,
    }
}

/// A limit for `rows` among few: the next power of two (a statement of its own for each limit
/// written, not one for every size asked), the caller keeping the first `rows`.
pub fn limit_bucket(rows: i64) -> i64 {
    let rows = u64::try_from(rows.max(1)).unwrap_or(1);
    i64::try_from(rows.next_power_of_two()).unwrap_or(i64::MAX)
}

impl<Q> LiteralLimit<Q> {
    /// The rows after the first `offset`: `OFFSET (SELECT CAST($n AS BIGINT))`, a value every
    /// plan of the statement takes for unknown.
    pub fn with_offset(self, offset: i64) -> Self {
        Self {
            offset: Some(offset.max(0)),
            ..self
        }
    }
}

impl<Q: Query> Query for LiteralLimit<Q> {
    type SqlType = Q::SqlType;
}

/// The number is in the text, not in the type: statements are told apart by their SQL.
impl<Q> QueryId for LiteralLimit<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for LiteralLimit<Q>
where
    i64: ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(" LIMIT ");
        out.push_sql(&self.limit.max(0).to_string());
        if let Some(offset) = &self.offset {
            out.push_sql(" OFFSET (SELECT CAST(");
            out.push_bind_param::<BigInt, i64>(offset)?;
            out.push_sql(" AS BIGINT))");
        }
        Ok(())
    }
}

impl<Q, Conn> RunQueryDsl<Conn> for LiteralLimit<Q> {}

#[cfg(test)]
mod tests {
    #[test]
    fn limits_are_powers_of_two() {
        assert_eq!(super::limit_bucket(0), 1);
        assert_eq!(super::limit_bucket(51), 64);
        assert_eq!(super::limit_bucket(1_000), 1_024);
        assert_eq!(super::limit_bucket(1_024), 1_024);
    }
}
