//! The load generator: `reqwest` with one bounded connection pool, closed loop (each
//! client sends its next request when the last is answered). Its own CPU is measured, since
//! it shares the two cores with the service and the database.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::service::cpu_seconds;

/// One request to send: the `i`-th of the run.
pub type MakeRequest = Arc<dyn Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync>;

/// What a run measured.
#[derive(Debug, Default)]
pub struct Run {
    pub statuses: BTreeMap<u16, usize>,
    latencies: Vec<Duration>,
    pub elapsed: Duration,
    /// CPU seconds per wall second: the generator (this process) and the service.
    pub generator_cores: f64,
    pub service_cores: f64,
    /// CPU of every `postgres` process on this machine, per wall second.
    pub database_cores: f64,
    /// The `keep` field of each 2xx answer's JSON body, when asked for.
    pub kept: Vec<String>,
}

impl Run {
    /// Answers with a 2xx status.
    pub fn ok(&self) -> usize {
        self.statuses
            .iter()
            .filter(|(s, _)| (200..300).contains(*s))
            .map(|(_, n)| n)
            .sum()
    }

    /// Successful requests per second.
    pub fn rate(&self) -> f64 {
        self.ok() as f64 / self.elapsed.as_secs_f64()
    }

    /// The share of requests not answered 2xx (refusals, errors, dropped connections).
    pub fn failed_share(&self) -> f64 {
        let all: usize = self.statuses.values().sum();
        if all == 0 {
            return 1.0;
        }
        1.0 - self.ok() as f64 / all as f64
    }

    /// Two runs of the same case as one: answers and latencies pooled, rates over their
    /// summed time, CPU weighted by each run's length.
    pub fn merge(mut self, other: Run) -> Run {
        for (status, n) in other.statuses {
            *self.statuses.entry(status).or_insert(0) += n;
        }
        let (a, b) = (self.elapsed.as_secs_f64(), other.elapsed.as_secs_f64());
        let weigh = |x: f64, y: f64| (x * a + y * b) / (a + b).max(f64::MIN_POSITIVE);
        self.generator_cores = weigh(self.generator_cores, other.generator_cores);
        self.service_cores = weigh(self.service_cores, other.service_cores);
        self.database_cores = weigh(self.database_cores, other.database_cores);
        self.elapsed += other.elapsed;
        self.latencies.extend(other.latencies);
        self.latencies.sort();
        self.kept.extend(other.kept);
        self
    }

    /// The `q` quantile of the 2xx answers' latencies, in ms (a fast refusal is not a
    /// fast answer).
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let i = ((self.latencies.len() - 1) as f64 * q).round() as usize;
        self.latencies[i].as_secs_f64() * 1000.0
    }
}

/// `clients` closed loops send requests `0..count` (made by `make`) until they run out
/// or `limit` has passed. `service` is the service's pid, for its CPU.
pub async fn closed_loop(
    clients: usize,
    count: usize,
    limit: Duration,
    service: u32,
    make: MakeRequest,
) -> Run {
    closed_loop_keeping(clients, count, limit, service, make, None).await
}

/// `closed_loop`, keeping the field `keep` of every 2xx answer (a claim's `code`).
pub async fn closed_loop_keeping(
    clients: usize,
    count: usize,
    limit: Duration,
    service: u32,
    make: MakeRequest,
    keep: Option<&'static str>,
) -> Run {
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(clients)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("http client");
    let next = Arc::new(AtomicUsize::new(0));
    let (me, cpu_before, service_before) = (
        std::process::id(),
        cpu_seconds(std::process::id()),
        cpu_seconds(service),
    );
    let database_before = crate::service::postgres_cpu_seconds();
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (client, next, make) = (client.clone(), next.clone(), make.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count || started.elapsed() >= limit {
                        break;
                    }
                    let t = Instant::now();
                    let (status, kept) = match make(&client, i).send().await {
                        Ok(r) => {
                            let s = r.status().as_u16();
                            let body = r.bytes().await.unwrap_or_default();
                            let kept = keep.filter(|_| (200..300).contains(&s)).and_then(|field| {
                                serde_json::from_slice::<serde_json::Value>(&body).ok()?[field]
                                    .as_str()
                                    .map(str::to_owned)
                            });
                            (s, kept)
                        }
                        Err(_) => (0, None),
                    };
                    seen.push((status, t.elapsed(), kept));
                }
                seen
            })
        })
        .collect();
    let mut run = Run::default();
    for task in tasks {
        for (status, latency, kept) in task.await.unwrap_or_default() {
            *run.statuses.entry(status).or_insert(0) += 1;
            if (200..300).contains(&status) {
                run.latencies.push(latency);
            }
            run.kept.extend(kept);
        }
    }
    run.elapsed = started.elapsed();
    let wall = run.elapsed.as_secs_f64();
    run.generator_cores = (cpu_seconds(me) - cpu_before) / wall;
    run.service_cores = (cpu_seconds(service) - service_before) / wall;
    run.database_cores = (crate::service::postgres_cpu_seconds() - database_before) / wall;
    run.latencies.sort();
    run
}

/// One line: rate, latencies, statuses and who used the CPU.
pub fn describe(run: &Run) -> String {
    format!(
        "{:.0}/s, p50 {:.1} ms, p99 {:.1} ms (2xx answers), statuses {:?} ({:.1}% not 2xx), cores: generator {:.2}, service {:.2}, PostgreSQL {:.2}",
        run.rate(),
        run.quantile_ms(0.5),
        run.quantile_ms(0.99),
        run.statuses,
        run.failed_share() * 100.0,
        run.generator_cores,
        run.service_cores,
        run.database_cores
    )
}
