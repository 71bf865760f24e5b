//! An organization's logo size as a column of its row (`ListItem::logo`): a correlated subquery
//! on the `logos` primary key, so that a page of the list reads its rows and their logos in one
//! statement (a second statement over the page's ids cost a tenth of the page).

use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::expression::{
    AppearsOnTable, Expression, SelectableExpression, ValidGrouping, is_aggregate,
};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Nullable};
use diesel::sqlite::Sqlite;

use super::logos::LogoSize;
use crate::db::MultiBackend;
use crate::db::schema::organizations;

/// `width * 2^32 + height` of the row's logo, or NULL without one (see [`unpack`]).
#[derive(Debug, Clone, Copy, Default, QueryId)]
pub struct PackedLogoSize;

const SQL: &str = "(SELECT logos.width * 4294967296 + logos.height FROM logos \
                   WHERE logos.organization_id = organizations.id)";

/// The logo size packed by [`PackedLogoSize`] of organization `id`.
pub fn unpack(id: i64, packed: Option<i64>) -> Option<LogoSize> {
    let packed = packed?;
    Some(LogoSize {
        organization_id: id,
        width: i32::try_from(packed >> 32).ok()?,
        height: i32::try_from(packed & 0xffff_ffff).ok()?,
    })
}

impl Expression for PackedLogoSize {
    type SqlType = Nullable<BigInt>;
}

impl AppearsOnTable<organizations::table> for PackedLogoSize {}

impl SelectableExpression<organizations::table> for PackedLogoSize {}

impl ValidGrouping<()> for PackedLogoSize {
    type IsAggregate = is_aggregate::Never;
}

fn walk<DB: Backend>(mut out: AstPass<'_, '_, DB>) -> QueryResult<()> {
    out.push_sql(SQL);
    Ok(())
}

impl QueryFragment<Sqlite> for PackedLogoSize {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        walk(out)
    }
}

impl QueryFragment<Pg> for PackedLogoSize {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        walk(out)
    }
}

impl QueryFragment<MultiBackend> for PackedLogoSize {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        MultiBackend::walk_variant_ast(self, pass)
    }
}

#[cfg(test)]
mod tests {
    use super::unpack;

    #[test]
    fn a_packed_size_unpacks_to_its_width_and_height() {
        let logo = unpack(7, Some(260 * 4_294_967_296 + 1200)).expect("a logo");
        assert_eq!(
            (logo.organization_id, logo.width, logo.height),
            (7, 260, 1200)
        );
        assert!(unpack(7, None).is_none());
    }
}
