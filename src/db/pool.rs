use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};

use super::{DatabaseUrl, DbConnection};

/// Told how long a request's work (its turn, then the checkout) or a job waited for a
/// connection, and when it gave up: the metrics.
pub trait WaitEvents: Send + Sync + 'static {
    fn waited(&self, wait: Duration);
    fn gave_up(&self, wait: Duration);
}

/// The connection pool, and as many turns (permits) as it has connections: `db::run` takes
/// a turn before it hands work to a blocking thread, so a burst of requests waits as cheap
/// async tasks in arrival order, not as hundreds of threads parked on the pool's lock. The
/// background jobs take connections without a turn (`get`), so a request holding a turn
/// may still wait for the checkout, for at most the same timeout.
#[derive(Clone)]
pub struct DbPool {
    inner: r2d2::Pool<Manager>,
    permits: Arc<Semaphore>,
    events: Option<Arc<dyn WaitEvents>>,
}

impl DbPool {
    /// A connection without a turn (jobs, start-up, the command line), waiting at most
    /// the pool's connection timeout (5 s); the wait is reported as a request's is.
    /// Requests go through `db::run`.
    pub fn get(&self) -> Result<r2d2::PooledConnection<Manager>, r2d2::PoolError> {
        let asked = std::time::Instant::now();
        let got = self.checkout();
        self.report(asked.elapsed(), got.is_err());
        got
    }

    /// A connection without a turn and without a report (`db::run` reports its whole wait).
    pub(crate) fn checkout(&self) -> Result<r2d2::PooledConnection<Manager>, r2d2::PoolError> {
        self.inner.get()
    }

    /// Reports a wait for a connection (a request's or a job's), `gave_up` when it got none.
    pub(crate) fn report(&self, wait: Duration, gave_up: bool) {
        match &self.events {
            Some(events) if gave_up => events.gave_up(wait),
            Some(events) => events.waited(wait),
            None => {}
        }
    }

    /// Connections open and idle (`/readyz`, metrics).
    pub fn state(&self) -> r2d2::State {
        self.inner.state()
    }

    /// A turn and a connection only if both are free at once (a metrics scrape never
    /// queues behind claims); the connection goes back when both are dropped.
    pub fn try_get(&self) -> Option<(OwnedSemaphorePermit, r2d2::PooledConnection<Manager>)> {
        let turn = Arc::clone(&self.permits).try_acquire_owned().ok()?;
        Some((turn, self.inner.try_get()?))
    }

    /// A turn at a connection for one piece of blocking work, waiting at most the pool's
    /// connection timeout; `None` when none came free in that time (a 503).
    pub(crate) async fn turn(&self) -> Option<OwnedSemaphorePermit> {
        let wait = self.inner.connection_timeout();
        let acquire = Arc::clone(&self.permits).acquire_owned();
        tokio::time::timeout(wait, acquire).await.ok()?.ok()
    }
}

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

/// `connect`, with `events` told how long each `db::run` waited for its connection (turn
/// and checkout), and each checkout without a turn (`DbPool::get`: jobs, start-up), and of
/// each that got none (the service's metrics).
pub fn connect_observed(
    url: &DatabaseUrl,
    max_size: u32,
    events: Option<Arc<dyn WaitEvents>>,
) -> Result<DbPool, r2d2::PoolError> {
    let builder = r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(5))
        // No `SELECT 1` before every checkout: it was two of a claim's round trips. A
        // connection that broke while idle fails its first statement instead, which is
        // answered 503 with Retry-After (`db::is_unavailable`), and `has_broken` keeps it
        // out of the pool.
        .test_on_check_out(false);
    let inner = builder.build(Manager { url: url.clone() })?;
    let permits = Arc::new(Semaphore::new(usize::try_from(max_size).unwrap_or(1)));
    Ok(DbPool {
        inner,
        permits,
        events,
    })
}
