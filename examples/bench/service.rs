//! The service under test: the release `zhijian` binary as a process of its own, so its
//! memory and CPU are its own and not the load generator's.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `zhijian serve`; killed when dropped.
pub struct Service {
    child: Child,
    pub base: String,
}

/// Where the release binary is (`bench/run` builds it first).
fn binary() -> String {
    std::env::var("BENCH_BIN")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/zhijian").into())
}

impl Service {
    /// Starts the service on `database_url` (and `redis_url`, when given), with the
    /// default settings otherwise, and waits for `/healthz`.
    pub async fn start(database_url: &str, redis_url: Option<&str>, secret: &str) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut command = Command::new(binary());
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", database_url)
            .env("JWT_SECRET", secret)
            .env("VOUCHER_KEY", secret)
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "error")
            // The refresh case measures a refresh's cost; its budgets would refuse most of
            // its requests, all from one address (cases::refreshes).
            .env("REFRESH_ADDRESS_MAX", "1000000000")
            .env("REFRESH_GLOBAL_MAX", "1000000000")
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        // The pool as deployed unless a run asks otherwise (README, "Performance", P2).
        if let Ok(size) = std::env::var("BENCH_DB_POOL_SIZE") {
            command.env("DB_POOL_SIZE", size);
        }
        // What the background jobs cost a case (README, "Performance").
        if let Ok(v) = std::env::var("BENCH_JOBS_ENABLED") {
            command.env("JOBS_ENABLED", v);
        }
        if let Some(redis) = redis_url {
            command.env("REDIS_URL", redis).env(
                "REDIS_KEY_PREFIX",
                format!("zj-bench:{}:", uuid::Uuid::new_v4().simple()),
            );
        }
        let service = Self {
            child: command.spawn()?,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::builder().no_proxy().build()?;
        for _ in 0..600 {
            if client
                .get(format!("{}/healthz", service.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(service);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("the service did not start (is {} built?)", binary())
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory now, in MB (`VmRSS`).
    pub fn rss_mb(&self) -> f64 {
        rss_mb(self.pid())
    }

    /// The service's `/metrics` lines that start with `prefix`, without it, joined by ", ".
    pub async fn metrics(&self, prefix: &str) -> anyhow::Result<String> {
        let text = reqwest::Client::builder()
            .no_proxy()
            .build()?
            .get(format!("{}/metrics", self.base))
            .send()
            .await?
            .text()
            .await?;
        let lines: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix(prefix)).collect();
        Ok(lines.join(", "))
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU seconds a process has used so far (user + system, `/proc/<pid>/stat`).
pub fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) start at field 3.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 (1-based), here 11 and 12; 100 ticks a second.
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds used so far by every process named `postgres` (the server and its
/// backends; backends that ended meanwhile are not counted, so this is a lower bound).
pub fn postgres_cpu_seconds() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "postgres")
        })
        .map(cpu_seconds)
        .sum()
}
