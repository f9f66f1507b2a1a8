//! One diesel code path over PostgreSQL and SQLite.
//!
//! The backend is chosen from `DATABASE_URL`'s scheme, never by trying to connect,
//! and each backend has its own embedded migrations folder.

pub mod direct;
pub mod fixed;
pub mod literal;
mod pool;
pub mod schema;
mod text_type;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub use pool::{connect, connect_observed, DbPool, WaitEvents};

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Where the data lives, parsed from `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(String),
}

impl DatabaseUrl {
    pub const DEFAULT_SQLITE_FILE: &'static str = "zhijian.db";

    /// Unset → `zhijian.db`; `postgres://` / `postgresql://` → PostgreSQL;
    /// `sqlite://path`, `sqlite:path` or a plain path → SQLite; any other scheme is refused.
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        let raw = raw.map(str::trim).filter(|s| !s.is_empty());
        let Some(raw) = raw else {
            return Ok(Self::Sqlite(Self::DEFAULT_SQLITE_FILE.to_owned()));
        };
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_owned()));
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .unwrap_or(raw);
        if path.contains("://") || path.is_empty() {
            return Err("DATABASE_URL must be postgres://…, sqlite://… or a file path".into());
        }
        Ok(Self::Sqlite(path.to_owned()))
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// Where the data lives, for the start-up log: never the password.
    pub fn describe(&self) -> String {
        match self {
            Self::Postgres(url) => {
                let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
                let (user, place) = rest.rsplit_once('@').unwrap_or(("", rest));
                let user = user.split(':').next().unwrap_or("");
                format!(
                    "PostgreSQL {place} as {}",
                    if user.is_empty() { "(default user)" } else { user }
                )
            }
            Self::Sqlite(path) => format!("SQLite file {path}"),
        }
    }
}

/// Runs the pending migrations of the connection's backend.
pub fn migrate(conn: &mut DbConnection) -> Result<(), String> {
    let err = |e: Box<dyn std::error::Error + Send + Sync>| e.to_string();
    match conn {
        DbConnection::Postgres(pg) => {
            // Two replicas starting together must not both migrate.
            diesel::sql_query("SELECT pg_advisory_lock(72943011)")
                .execute(pg)
                .map_err(|e| e.to_string())?;
            let result = pg.run_pending_migrations(PG_MIGRATIONS).map(|_| ()).map_err(err);
            diesel::sql_query("SELECT pg_advisory_unlock(72943011)")
                .execute(pg)
                .map_err(|e| e.to_string())?;
            result
        }
        DbConnection::Sqlite(lite) => lite
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|_| ())
            .map_err(err),
    }
}

/// A read-write transaction. On SQLite it starts with `BEGIN IMMEDIATE` so that two
/// writers queue on the busy timeout instead of failing on a lock upgrade.
pub fn write_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let DbConnection::Sqlite(lite) = conn else {
        return conn.transaction(f);
    };
    AnsiTransactionManager::begin_transaction_sql(lite, "BEGIN IMMEDIATE")?;
    let result = f(conn);
    let DbConnection::Sqlite(lite) = conn else {
        unreachable!("a connection does not change its backend")
    };
    match result {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(lite)?;
            Ok(value)
        }
        Err(e) => {
            // The caller's error is the one worth reporting.
            let _ = AnsiTransactionManager::rollback_transaction(lite);
            Err(e)
        }
    }
}

/// Runs `f` in one read-only snapshot: on PostgreSQL a `REPEATABLE READ, READ ONLY`
/// transaction, so writers committing meanwhile are not seen halfway; on SQLite a
/// transaction (a WAL reader sees one state).
pub fn read_snapshot<T, F>(conn: &mut DbConnection, f: F) -> QueryResult<T>
where
    F: FnOnce(&mut DbConnection) -> QueryResult<T>,
{
    conn.transaction(|c| {
        if matches!(c, DbConnection::Postgres(_)) {
            diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(c)?;
        }
        f(c)
    })
}

/// A multi-row `INSERT` of `rows` (a `Vec` of value tuples) into `table`, returning
/// `QueryResult<()>`. Diesel's multi-backend connection cannot build one (its dialect
/// has no DEFAULT keyword form), while each backend can: the same statement is run on
/// the backend's own connection.
#[macro_export]
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let rows = $rows;
        if rows.is_empty() {
            Ok(())
        } else {
            let insert = diesel::insert_into($table).values(rows);
            match $conn {
                $crate::db::DbConnection::Postgres(pg) => insert.execute(pg).map(|_| ()),
                $crate::db::DbConnection::Sqlite(lite) => insert.execute(lite).map(|_| ()),
            }
        }
    }};
}
pub use insert_rows;

/// Why blocking database work could not run at all (no connection, or its thread died).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("database pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    /// Every connection stayed busy for the pool's whole connection timeout.
    #[error("database pool: no connection came free in time")]
    Busy,
    #[error("blocking task failed: {0}")]
    Blocking(String),
}

/// Runs blocking database work off the async workers with a pooled connection. The
/// caller's error type `E` also carries the pool's failures.
pub async fn run<T, E, F>(pool: &DbPool, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<RunError> + Send + 'static,
{
    let asked = std::time::Instant::now();
    let Some(turn) = pool.turn().await else {
        pool.report(asked.elapsed(), true);
        return Err(RunError::Busy.into());
    };
    let pool = pool.clone();
    actix_web::web::block(move || {
        // Held until the work ends, even when the request is dropped meanwhile.
        let _turn = turn;
        let got = pool.checkout();
        pool.report(asked.elapsed(), got.is_err());
        let mut conn = got.map_err(RunError::from)?;
        f(&mut conn)
    })
    .await
    .map_err(|e| RunError::Blocking(e.to_string()))?
}

/// `run` with the work inside one write transaction (`write_tx`): the usual shape of a
/// write operation.
pub async fn transaction<T, E, F>(pool: &DbPool, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<RunError> + From<diesel::result::Error> + Send + 'static,
{
    run(pool, move |conn| write_tx(conn, f)).await
}

/// What the servers say when they cannot do the work right now, whatever was asked:
/// PostgreSQL shutting down, restarting or gone (SQLSTATE classes 08 and 57P), SQLite's
/// `SQLITE_FULL`, `SQLITE_IOERR`, `SQLITE_CANTOPEN` and `SQLITE_BUSY` (after its 15 s busy
/// wait), a full disk on either. Diesel hands these over as messages only (no SQLSTATE), so
/// they are matched here, in one place, in the servers' English: PostgreSQL must run with
/// `lc_messages = 'C'` (README, "Running on PostgreSQL + Redis"). Deadlocks and a broken
/// transaction manager are not here: they point at our code, and stay 500s.
const TRANSIENT_MESSAGES: &[&str] = &[
    "terminating connection",
    "server closed the connection",
    "SSL connection has been closed unexpectedly",
    "the database system is",
    "no connection to the server",
    "could not receive data from server",
    "could not send data to server",
    "connection to server",
    "could not extend file",
    "No space left on device",
    "database or disk is full",
    "disk I/O error",
    "unable to open database file",
    "database is locked",
];

/// Whether `err` means "the database cannot do this now, try again" (a 503 with
/// `Retry-After`) rather than a fault in our statements (a 500): a lost or closed
/// connection, a serialization failure, a standby that took over read-only, a restart, a
/// full disk.
pub fn is_unavailable(err: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind as Kind, Error};
    match err {
        Error::DatabaseError(
            Kind::ClosedConnection
            | Kind::UnableToSendCommand
            | Kind::SerializationFailure
            | Kind::ReadOnlyTransaction,
            _,
        ) => true,
        Error::DatabaseError(_, info) => TRANSIENT_MESSAGES.iter().any(|m| info.message().contains(m)),
        _ => false,
    }
}

/// Whether diesel finds `query`'s prepared statement by the query's type (a static query
/// id), rather than by writing its SQL out on every call to look it up.
pub fn cached_by_type<Q: diesel::query_builder::QueryId>(_query: &Q) -> bool {
    Q::HAS_STATIC_QUERY_ID
}

/// A round trip to the database (readiness).
pub fn ping(conn: &mut DbConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT 1").execute(conn).map(|_| ())
}

/// True when the error is a unique-constraint violation (a lost race or a duplicate).
pub fn is_unique_violation(err: &diesel::result::Error) -> bool {
    matches!(
        err,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}
