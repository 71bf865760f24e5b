//! Our own r2d2 manager, so that every pooled connection gets the SQLite pragmas.

use std::time::Duration;

use diesel::r2d2::R2D2Connection;

use super::DbConn;

pub type DbPool = r2d2::Pool<Manager>;

pub struct Manager {
    url: String,
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::ConnectionError;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        DbConn::open(&self.url)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        conn.ping()
            .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        conn.is_broken()
    }
}

/// A pool of `size` connections; fails at once when the database cannot be opened.
pub fn build_pool(url: &str, size: u32) -> Result<DbPool, r2d2::Error> {
    r2d2::Pool::builder()
        .max_size(size)
        .connection_timeout(Duration::from_secs(10))
        .build(Manager {
            url: url.to_owned(),
        })
}
