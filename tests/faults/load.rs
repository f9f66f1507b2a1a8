//! The clients: a paced burst of claims and redemptions over HTTP, every one retried
//! with its own `Idempotency-Key` after a timeout, a dropped connection or a 503, as the
//! phone app and the counter page do, and everything each client saw written down.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::Semaphore;

/// One thing a client wants done, once.
#[derive(Debug, Clone)]
pub enum Op {
    /// A worker claims a voucher of `campaign` (identified by `who`, the worker's id).
    Claim {
        campaign: String,
        token: String,
        who: String,
    },
    /// A counter redeems `code` (of voucher `voucher`) at `station`.
    Redeem {
        code: String,
        voucher: String,
        station: String,
        token: String,
    },
}

impl Op {
    /// The worker (claims) or voucher (redemptions) the ledger files this under.
    pub fn subject(&self) -> &str {
        match self {
            Self::Claim { who, .. } => who,
            Self::Redeem { voucher, .. } => voucher,
        }
    }
}

/// How an operation ended for its client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 201 with the id of what was made (a voucher or a redemption).
    Created(String),
    /// A definite refusal: its stable code (`SOLD_OUT`, `ALREADY_REDEEMED`, …).
    Refused(String),
    /// Still no definite answer when the case's time ran out.
    Unknown,
}

/// One answer (or non-answer) a client got, and when.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Instant,
    /// `201`, `409 ALREADY_CLAIMED`, `503 UNAVAILABLE`, `timeout`, `connection failed`.
    pub label: String,
}

#[derive(Debug, Clone)]
pub struct Done {
    pub op: Op,
    pub outcome: Outcome,
    pub seen: Vec<Seen>,
}

/// How the clients behave.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// One new operation starts every `pace`.
    pub pace: Duration,
    /// At most this many operations in flight.
    pub concurrency: usize,
    /// A client gives one attempt this long before it calls it a timeout and retries.
    pub attempt_timeout: Duration,
    /// An operation with no definite answer after this long is `Unknown`.
    pub give_up_after: Duration,
}

impl Default for Plan {
    fn default() -> Self {
        Self {
            pace: Duration::from_millis(8),
            concurrency: 32,
            attempt_timeout: Duration::from_secs(3),
            give_up_after: Duration::from_secs(60),
        }
    }
}

/// Answers a client waits out and tries again with the same key: the service said
/// "not now" (in flight elsewhere, locked, throttled, unavailable).
const RETRY_CODES: &[&str] = &[
    "IDEMPOTENCY_IN_FLIGHT",
    "REDEMPTION_IN_PROGRESS",
    "RATE_LIMITED",
    "UNAVAILABLE",
];

/// Where attempts go: op `i`'s first attempt to `first[i % len]`, its `n`-th retry to
/// `retries[(i + n) % len]`.
#[derive(Debug, Clone)]
pub struct Route {
    pub first: Vec<String>,
    pub retries: Vec<String>,
}

impl Route {
    fn base(&self, i: usize, attempt: usize) -> &str {
        if attempt == 0 {
            &self.first[i % self.first.len()]
        } else {
            &self.retries[(i + attempt) % self.retries.len()]
        }
    }
}

/// Runs `ops` against the instances at `bases`, spread over them, a retry after a
/// failure trying the next instance.
pub async fn burst(ops: Vec<Op>, bases: Vec<String>, plan: Plan) -> Vec<Done> {
    let route = Route {
        first: bases.clone(),
        retries: bases,
    };
    burst_routed(ops, route, plan).await
}

/// Runs `ops` with their attempts sent along `route`.
pub async fn burst_routed(ops: Vec<Op>, route: Route, plan: Plan) -> Vec<Done> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(plan.attempt_timeout)
        .pool_max_idle_per_host(plan.concurrency)
        .build()
        .unwrap();
    let route = Arc::new(route);
    let gate = Arc::new(Semaphore::new(plan.concurrency));
    let mut tasks = Vec::with_capacity(ops.len());
    for (i, op) in ops.into_iter().enumerate() {
        let permit = gate.clone().acquire_owned().await.unwrap();
        let (client, route) = (client.clone(), route.clone());
        tasks.push(tokio::spawn(async move {
            let done = run_one(&client, &route, i, op, plan).await;
            drop(permit);
            done
        }));
        tokio::time::sleep(plan.pace).await;
    }
    let mut done = Vec::with_capacity(tasks.len());
    for task in tasks {
        done.push(task.await.unwrap());
    }
    done
}

async fn run_one(client: &reqwest::Client, route: &Route, i: usize, op: Op, plan: Plan) -> Done {
    let key = uuid::Uuid::new_v4().to_string();
    let started = Instant::now();
    let mut seen = Vec::new();
    for attempt in 0.. {
        if started.elapsed() > plan.give_up_after {
            break;
        }
        let sent = send(client, route.base(i, attempt), &op, &key).await;
        let at = Instant::now();
        match sent {
            Ok((201, body, replayed)) => {
                let label = if replayed { "201 (replayed)" } else { "201" };
                seen.push(Seen {
                    at,
                    label: label.into(),
                });
                let id = body["id"].as_str().expect("a 201 names what it made").to_owned();
                return Done {
                    op,
                    outcome: Outcome::Created(id),
                    seen,
                };
            }
            Ok((status, body, _)) => {
                let code = body["code"].as_str().unwrap_or("(no code)").to_owned();
                seen.push(Seen {
                    at,
                    label: format!("{status} {code}"),
                });
                if status < 500 && !RETRY_CODES.contains(&code.as_str()) {
                    return Done {
                        op,
                        outcome: Outcome::Refused(code),
                        seen,
                    };
                }
            }
            Err(label) => seen.push(Seen { at, label }),
        }
        tokio::time::sleep(Duration::from_millis(100 + 50 * (attempt as u64 % 4))).await;
    }
    Done {
        op,
        outcome: Outcome::Unknown,
        seen,
    }
}

/// One attempt: the status, the body, and whether it was a stored answer replayed.
async fn send(
    client: &reqwest::Client,
    base: &str,
    op: &Op,
    key: &str,
) -> Result<(u16, Value, bool), String> {
    let request = match op {
        Op::Claim { campaign, token, .. } => client
            .post(format!("{base}/api/v1/campaigns/{campaign}/claims"))
            .bearer_auth(token),
        Op::Redeem {
            code, station, token, ..
        } => client
            .post(format!("{base}/api/v1/counter/redemptions"))
            .bearer_auth(token)
            .json(&json!({"code": code, "station_id": station})),
    };
    let response = request
        .header("Idempotency-Key", key)
        .send()
        .await
        .map_err(|e| describe(&e))?;
    let status = response.status().as_u16();
    let replayed = response.headers().contains_key("idempotent-replayed");
    match response.bytes().await {
        Ok(bytes) => Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            replayed,
        )),
        Err(e) => Err(describe(&e)),
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else {
        "connection failed".into()
    }
}

/// Every answer the clients saw, counted by label (for the README's table).
pub fn tally(done: &[Done]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for seen in done.iter().flat_map(|d| &d.seen) {
        *counts.entry(seen.label.clone()).or_insert(0) += 1;
    }
    counts
}

/// The answers seen in the window `[from, to)`.
pub fn seen_between(done: &[Done], from: Instant, to: Instant) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for seen in done
        .iter()
        .flat_map(|d| &d.seen)
        .filter(|s| s.at >= from && s.at < to)
    {
        *counts.entry(seen.label.clone()).or_insert(0) += 1;
    }
    counts
}

/// One line for the case's report: `case: 201×310, 409 SOLD_OUT×40, timeout×3, …`.
pub fn report(case: &str, done: &[Done]) {
    let counts = tally(done)
        .iter()
        .map(|(label, n)| format!("{label}×{n}"))
        .collect::<Vec<_>>()
        .join(", ");
    println!("FAULT-REPORT {case}: {} operations; seen: {counts}", done.len());
}
