//! Running a one-statement write (`claim_statement`, `redeem_statement`) with its
//! idempotent answer: on its own when there is no ticket to record, else in a write
//! transaction with the ticket, so the effect and its answer commit together.

use crate::db::{self, DbConnection};
use crate::error::ApiError;

/// Why an attempt gave way: declined (its transaction, if any, rolls back) or failed.
enum GaveWay {
    Declined,
    Failed(ApiError),
}

impl From<diesel::result::Error> for GaveWay {
    fn from(e: diesel::result::Error) -> Self {
        Self::Failed(e.into())
    }
}

/// Runs `attempt` alone (`in_transaction` false) or in a write transaction. `Ok(None)`:
/// it declined (`Ok(None)` from `attempt`) and nothing was written; a declined statement
/// may have left the transaction aborted, so it is rolled back.
pub fn run<T>(
    conn: &mut DbConnection,
    in_transaction: bool,
    attempt: impl FnOnce(&mut DbConnection) -> Result<Option<T>, ApiError>,
) -> Result<Option<T>, ApiError> {
    let once = |conn: &mut DbConnection| match attempt(conn) {
        Ok(Some(answer)) => Ok(answer),
        Ok(None) => Err(GaveWay::Declined),
        Err(e) => Err(GaveWay::Failed(e)),
    };
    let outcome = if in_transaction {
        db::write_tx(conn, once)
    } else {
        once(conn)
    };
    match outcome {
        Ok(answer) => Ok(Some(answer)),
        Err(GaveWay::Declined) => Ok(None),
        Err(GaveWay::Failed(e)) => Err(e),
    }
}
