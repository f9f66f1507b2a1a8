//! The redemption lock (contract, "Redemption": 423 `REDEMPTION_IN_PROGRESS` while another
//! counter holds it), shared by the counter and the door. It is keyed by the keyed hash of
//! the voucher's code, not by the voucher's id, so a counter can take it before the code
//! is looked up: one round trip to Redis together with the guess it reserves, and one
//! more to give both back. The database fence decides whatever the lock does.

use std::time::Duration;

use actix_web::http::StatusCode;

use crate::db;
use crate::domain::ids::UserId;
use crate::error::{ApiError, ErrorCode};
use crate::http::throttle;
use crate::locks::{Lease, LockError, Locks};
use crate::state::AppState;

/// Long enough for one redemption transaction; short enough that a crashed holder
/// blocks the code only briefly. The database fence holds whatever the lock does.
const TTL: Duration = Duration::from_secs(5);

/// The lock's key for the voucher whose code's keyed hash is `code_hash`.
fn key(code_hash: &str) -> String {
    format!("lock:redeem:{code_hash}")
}

/// How taking the lock went.
enum Taken {
    Held(Lease),
    /// Another counter holds it.
    Busy,
    /// The lock service is down: the fence alone decides.
    Unavailable,
}

/// Counts the attempt in `zhijian_redemption_locks_total{outcome}`.
fn counted(st: &AppState, attempt: Result<Option<Lease>, LockError>) -> Taken {
    let (outcome, taken) = match attempt {
        Ok(Some(lease)) => ("acquired", Taken::Held(lease)),
        Ok(None) => ("busy", Taken::Busy),
        Err(e) => {
            tracing::warn!(error = %e, "redemption lock unavailable; the database fence decides alone");
            ("unavailable", Taken::Unavailable)
        }
    };
    let counted = crate::metrics::Outcome {
        outcome: outcome.to_owned(),
    };
    st.metrics.locks.get_or_create(&counted).inc();
    taken
}

/// What a counter's redemption holds while its code is decided: one guess reserved
/// against the counter's budget (`throttle::reserve_guess`) and the code's lock. Give both
/// back with `settle`. A request dropped before that (the client went away) keeps the
/// guess, and its lock expires with its TTL: its work may still be running on a blocking
/// thread, and the lock must not be free while it does.
pub struct Hold {
    locks: Locks,
    guesses: String,
    taken: Taken,
}

impl Hold {
    /// Reserves a guess for `counter` and, within its budget, takes the lock of
    /// `code_hash`, in one round trip. 429 `RATE_LIMITED` (the guess kept, the lock never
    /// tried) when the budget is spent.
    pub async fn take(st: &AppState, counter: &UserId, code_hash: &str) -> Result<Self, ApiError> {
        let guesses = throttle::code_guess_key(counter);
        let budget = (
            guesses.as_str(),
            st.limits.code_guess_window,
            st.limits.code_guess_max,
        );
        let (hits, attempt) = st.locks.hit_and_acquire(budget, &key(code_hash), TTL).await;
        // Over the budget the lock was not tried: nothing to give back.
        throttle::judge_guess(st, hits)?;
        Ok(Self {
            locks: st.locks.clone(),
            guesses,
            taken: counted(st, attempt),
        })
    }

    /// Another counter holds the lock: once the code's own refusals are checked, the answer
    /// is 423 `REDEMPTION_IN_PROGRESS`.
    pub fn busy(&self) -> bool {
        matches!(self.taken, Taken::Busy)
    }

    /// Releases the lock and, with `refund`, gives the guess back, in one round trip. The
    /// caller refunds for every answer but "no such code" (404): an answer that depends on
    /// the code existing must not cost more than one that does not.
    pub async fn settle(self, refund: bool) {
        let lease = match &self.taken {
            Taken::Held(lease) => Some(lease),
            Taken::Busy | Taken::Unavailable => None,
        };
        let refund = refund.then_some(self.guesses.as_str());
        if let Err(e) = self.locks.release_and_refund(lease, refund).await {
            tracing::warn!(error = %e, "could not release a redemption lock or refund a guess; both expire on their own");
        }
    }
}

/// Takes the lock of the voucher whose code's keyed hash is `code_hash`, then runs `work`
/// with a connection (it opens its own write transaction) behind the database fence. 423
/// when another holds it; if the lock service is down, the fence alone decides: never
/// twice, never a hang.
pub async fn fenced<F>(st: &AppState, code_hash: &str, work: F) -> Result<(StatusCode, String), ApiError>
where
    F: FnOnce(&mut db::DbConnection) -> Result<(StatusCode, String), ApiError> + Send + 'static,
{
    let lease = match counted(st, st.locks.try_acquire(&key(code_hash), TTL).await) {
        Taken::Held(lease) => Some(lease),
        Taken::Busy => return Err(ErrorCode::RedemptionInProgress.into()),
        Taken::Unavailable => None,
    };
    let result = db::run(&st.pool, work).await;
    if let Some(lease) = lease {
        if let Err(e) = st.locks.release(&lease).await {
            tracing::warn!(error = %e, "could not release a redemption lock; it expires on its own");
        }
    }
    result
}
