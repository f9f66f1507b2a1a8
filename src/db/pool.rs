use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};

use super::{DatabaseUrl, DbConnection};

pub type DbPool = r2d2::Pool<Manager>;

/// Opens connections of the backend named by the URL (no trial and error).
#[derive(Debug)]
pub struct Manager {
    url: DatabaseUrl,
}

// WAL lets readers run beside the single writer; the busy timeout queues writers.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 15000; \
     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => PgConnection::establish(url)
                .map(DbConnection::Postgres)
                .map_err(r2d2::Error::ConnectionError),
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

/// Builds the pool; fails at once when the database cannot be reached.
pub fn connect(url: &DatabaseUrl, max_size: u32) -> Result<DbPool, r2d2::PoolError> {
    connect_observed(url, max_size, None)
}

/// `connect`, with `events` told of every checkout's wait and every timeout (the
/// service's metrics).
pub fn connect_observed(
    url: &DatabaseUrl,
    max_size: u32,
    events: Option<Box<dyn r2d2::HandleEvent>>,
) -> Result<DbPool, r2d2::PoolError> {
    let mut builder = r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(5))
        // No `SELECT 1` before every checkout: it was two of a claim's round trips. A
        // connection that broke while idle fails its first statement instead, which is
        // answered 503 with Retry-After (`db::is_unavailable`), and `has_broken` keeps it
        // out of the pool.
        .test_on_check_out(false);
    if let Some(events) = events {
        builder = builder.event_handler(events);
    }
    builder.build(Manager { url: url.clone() })
}
