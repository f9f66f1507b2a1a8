//! The anchors: pgbench running the shortest correct SQL by hand, on the same database
//! and machine, in the same run.

use std::process::Command;

/// What pgbench reported.
#[derive(Debug, Clone, Copy)]
pub struct Pgbench {
    pub tps: f64,
    pub latency_ms: f64,
    pub failed: u64,
    /// "number of transactions actually processed".
    pub processed: u64,
}

/// `pgbench -n -M prepared -c clients -j 2 -T secs -f script` with `-D` variables.
pub fn pgbench(
    url: &str,
    script: &str,
    clients: usize,
    secs: u64,
    vars: &[(&str, String)],
) -> anyhow::Result<Pgbench> {
    let path = format!("{}/bench/{script}", env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new("pgbench");
    command.args([
        "-n",
        "-M",
        "prepared",
        "-j",
        "2",
        "-c",
        &clients.to_string(),
        "-T",
        &secs.to_string(),
    ]);
    for (name, value) in vars {
        command.args(["-D", &format!("{name}={value}")]);
    }
    let out = command.args(["-f", &path, url]).output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    anyhow::ensure!(
        out.status.success(),
        "pgbench failed: {}{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let number = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .and_then(|rest| rest.trim().trim_start_matches('=').split_whitespace().next())
            .and_then(|token| token.split('/').next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    Ok(Pgbench {
        tps: number("tps").ok_or_else(|| anyhow::anyhow!("no tps in pgbench's output: {text}"))?,
        latency_ms: number("latency average").unwrap_or(0.0),
        failed: number("number of failed transactions:").map_or(0, |f| f as u64),
        processed: number("number of transactions actually processed:").map_or(0, |f| f as u64),
    })
}
