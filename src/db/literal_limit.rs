//! `LIMIT n` written into a statement's text rather than bound. PostgreSQL keeps one plan for a
//! prepared statement (a generic plan) only when it does not look dearer than the plans it makes
//! for each call's values; with a bound limit the generic plan expects a tenth of the table, so
//! a page of 50 rows was planned anew on every call (0.15 ms of PostgreSQL's time per list page).

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// `query LIMIT n`, the number in the text. Built by [`literal_limit`]; `query` must have no
/// limit or offset of its own.
#[derive(Debug, Clone)]
pub struct LiteralLimit<Q> {
    query: Q,
    limit: i64,
}

/// `query` limited to `limit` rows, the number written into the statement (one prepared
/// statement per distinct limit: use it for the few fixed page sizes, not for any number).
pub fn literal_limit<Q>(query: Q, limit: i64) -> LiteralLimit<Q> {
    LiteralLimit { query, limit }
}

impl<Q: Query> Query for LiteralLimit<Q> {
    type SqlType = Q::SqlType;
}

/// The number is in the text, not in the type: statements are told apart by their SQL.
impl<Q> QueryId for LiteralLimit<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for LiteralLimit<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(" LIMIT ");
        out.push_sql(&self.limit.max(0).to_string());
        Ok(())
    }
}

impl<Q, Conn> RunQueryDsl<Conn> for LiteralLimit<Q> {}
