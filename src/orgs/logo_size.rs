//! An organization's logo size as a column of its row (`ListItem::logo`): a correlated subquery
//! on the `logos` primary key, so that a page of the list reads its rows and their logos in one
//! statement (a second statement over the page's ids cost a tenth of the page).

use diesel::sql_types::{BigInt, Nullable};

use super::logos::LogoSize;
use crate::db::schema::organizations;
use crate::db::{Fixed, FixedSql};

/// `width * 2^32 + height` of the row's logo, or NULL without one (see [`unpack`]).
pub type PackedLogoSize = Fixed<LogoOfRow>;

/// [`PackedLogoSize`] as a value, for `select_expression`.
pub const PACKED_LOGO_SIZE: PackedLogoSize = Fixed(LogoOfRow);

/// The text of [`PackedLogoSize`].
#[derive(Debug, Clone, Copy, Default)]
pub struct LogoOfRow;

impl FixedSql for LogoOfRow {
    type SqlType = Nullable<BigInt>;
    type Beside = organizations::id;
    const SQL: &'static str = "(SELECT logos.width * 4294967296 + logos.height FROM logos \
                               WHERE logos.organization_id = organizations.id)";
}

/// The logo size packed by [`PackedLogoSize`] of organization `id`.
pub fn unpack(id: i64, packed: Option<i64>) -> Option<LogoSize> {
    let packed = packed?;
    Some(LogoSize {
        organization_id: id,
        width: i32::try_from(packed >> 32).ok()?,
        height: i32::try_from(packed & 0xffff_ffff).ok()?,
    })
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
