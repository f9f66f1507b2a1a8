//! `GET /metrics` (issue 15; contract v1.1, "Pages and pictures"): Prometheus text in the
//! OpenMetrics format from `prometheus-client`, one registry per running service (tests
//! run many in one process). Labels are route patterns, methods, statuses and stable
//! codes only: never a path with an id in it, never a phone, name or code.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// `{method, route, status}` of an answered request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The matched pattern (`/api/v1/campaigns/{id}/claims`), or `unmatched`.
    pub route: String,
    pub status: u16,
}

/// `{method, route}` for latencies.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

/// `{outcome}`: `created`, or the refusal's stable code (`SOLD_OUT`, `ALREADY_REDEEMED`…).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    pub outcome: String,
}

/// `{method, outcome}` of a hand-over: `counter` or `delivery`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HandOverOutcome {
    pub method: String,
    pub outcome: String,
}

/// The service's metrics; cheap to clone (every metric is shared).
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RouteLabels, Histogram>,
    pub claims: Family<Outcome, Counter>,
    /// Created vouchers by the path that made them (`routes::claims`): `one_statement`,
    /// `read_then_statement` or `transaction`.
    pub claim_paths: Family<Outcome, Counter>,
    pub redemptions: Family<HandOverOutcome, Counter>,
    /// Redemption locks: `acquired`, `busy` (another counter holds it) or `unavailable`
    /// (the lock service is down: the database fence decides alone).
    pub locks: Family<Outcome, Counter>,
    pub pool_wait: Histogram,
    pub pool_timeouts: Counter,
    pub pool_connections: Gauge,
    pub pool_idle: Gauge,
    pub outbox_backlog: Gauge,
    pub job_lag_seconds: Gauge,
    /// Idempotent attempts whose key a retry took over while they stalled (a paused or
    /// slow instance): their work rolled back, the retry's stands.
    pub idempotency_leases_lost: Counter,
    /// Session checks by where they were answered: `cache` or `database`.
    pub session_checks: Family<Outcome, Counter>,
}

fn seconds() -> Histogram {
    // 1 ms … about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        let m = Self {
            registry: Arc::new(Registry::default()),
            requests: Family::default(),
            latency: Family::new_with_constructor(seconds),
            claims: Family::default(),
            claim_paths: Family::default(),
            redemptions: Family::default(),
            locks: Family::default(),
            pool_wait: seconds(),
            pool_timeouts: Counter::default(),
            pool_connections: Gauge::default(),
            pool_idle: Gauge::default(),
            outbox_backlog: Gauge::default(),
            job_lag_seconds: Gauge::default(),
            idempotency_leases_lost: Counter::default(),
            session_checks: Family::default(),
        };
        let mut r = Registry::with_prefix("zhijian");
        r.register(
            "http_requests",
            "Requests answered, by route pattern and status",
            m.requests.clone(),
        );
        r.register(
            "http_request_duration_seconds",
            "Time to answer, by route pattern",
            m.latency.clone(),
        );
        r.register(
            "claims",
            "Claims by outcome (created or the refusal's code)",
            m.claims.clone(),
        );
        r.register(
            "claim_paths",
            "Created vouchers by the path that made them: one_statement, read_then_statement or transaction",
            m.claim_paths.clone(),
        );
        r.register(
            "redemptions",
            "Hand-overs (核销 at a counter, or at the door) by outcome",
            m.redemptions.clone(),
        );
        r.register(
            "redemption_locks",
            "Redemption lock attempts: acquired, busy, unavailable",
            m.locks.clone(),
        );
        r.register(
            "db_pool_wait_seconds",
            "Time a request (its turn, then the checkout), a background job or start-up waited for a database connection",
            m.pool_wait.clone(),
        );
        r.register(
            "db_pool_timeouts",
            "Requests, background jobs or start-up checkouts that got no database connection in time",
            m.pool_timeouts.clone(),
        );
        r.register(
            "db_pool_connections",
            "Open database connections",
            m.pool_connections.clone(),
        );
        r.register(
            "db_pool_idle_connections",
            "Idle database connections",
            m.pool_idle.clone(),
        );
        r.register(
            "outbox_backlog",
            "Notifications and partner events not delivered yet (nor given up)",
            m.outbox_backlog.clone(),
        );
        r.register(
            "job_lag_seconds",
            "How overdue the oldest due outbox message is (0: none due)",
            m.job_lag_seconds.clone(),
        );
        r.register(
            "idempotency_leases_lost",
            "Attempts whose Idempotency-Key a retry took over while they stalled; their work rolled back",
            m.idempotency_leases_lost.clone(),
        );
        r.register(
            "session_checks",
            "Access-token session checks, by where they were answered (cache, database)",
            m.session_checks.clone(),
        );
        Self {
            registry: Arc::new(r),
            ..m
        }
    }
}

impl Metrics {
    /// The text exposition.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }

    /// The pool's wait events: how long each request waited for a connection, and timeouts.
    pub fn pool_events(&self) -> std::sync::Arc<dyn crate::db::WaitEvents> {
        std::sync::Arc::new(PoolEvents(self.clone()))
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

#[derive(Debug)]
struct PoolEvents(Metrics);

impl crate::db::WaitEvents for PoolEvents {
    fn waited(&self, wait: std::time::Duration) {
        self.0.pool_wait.observe(wait.as_secs_f64());
    }

    fn gave_up(&self, wait: std::time::Duration) {
        self.0.pool_timeouts.inc();
        self.0.pool_wait.observe(wait.as_secs_f64());
    }
}
