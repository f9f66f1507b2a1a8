//! What the faults act on: `zhijian` processes, the suite's own PostgreSQL cluster and
//! Redis server, and a small file system that can be filled up.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use zhijian::config::Config;

use crate::common;

/// A setting `.ci/faults` provides; the suite fails without it (never skips).
pub fn required(name: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| panic!("{name} is not set: run the fault suite with `bash .ci/faults`"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `zhijian serve` process on a port of its own, which keeps that port across
/// restarts. Its log goes to `target/fault-logs/<name>.log`. Killed when dropped.
pub struct Instance {
    child: Option<Child>,
    config: Config,
    env: Vec<(String, String)>,
    port: u16,
    log: PathBuf,
}

impl Instance {
    pub async fn start(name: &str, config: &Config, env: &[(&str, &str)]) -> Self {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/fault-logs");
        std::fs::create_dir_all(&dir).unwrap();
        let mut instance = Self {
            child: None,
            config: config.clone(),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            port: free_port(),
            log: dir.join(format!("{name}.log")),
        };
        let _ = std::fs::remove_file(&instance.log);
        instance.launch().await;
        instance
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn launch(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut command = common::binary::zhijian(&self.config);
        command
            .env("BIND", format!("127.0.0.1:{}", self.port))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log);
        for (k, v) in &self.env {
            command.env(k, v);
        }
        self.child = Some(command.spawn().unwrap());
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let health = format!("{}/healthz", self.base());
        for _ in 0..600 {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "{} exited before serving ({status}); see {}",
                    self.base(),
                    self.log.display()
                );
            }
            if client
                .get(&health)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{} did not answer /healthz within 30 s", self.base());
    }

    fn pid(&self) -> String {
        self.child.as_ref().expect("running").id().to_string()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill").args([signal, &self.pid()]).status().unwrap();
        assert!(status.success(), "kill {signal} failed");
    }

    /// `SIGKILL`: no shutdown, no flush, requests cut off wherever they were.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Starts the process again on the same port (migrations and recovery run first).
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "kill it first");
        self.launch().await;
    }

    /// `SIGSTOP`: frozen mid-request, holding whatever it held.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// `SIGCONT`.
    pub fn resume(&self) {
        self.signal("-CONT");
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The PostgreSQL cluster `.ci/faults` made for this suite (never the developer's):
/// `ZHIJIAN_FAULT_PG_CLUSTER` is "<version> <name>", `ZHIJIAN_FAULT_PG_URL` its
/// administrative URL.
pub struct PgCluster {
    version: String,
    name: String,
    pub admin_url: String,
}

impl PgCluster {
    pub fn from_env() -> Self {
        let cluster = required("ZHIJIAN_FAULT_PG_CLUSTER");
        let (version, name) = cluster.split_once(' ').expect("\"<version> <name>\"");
        Self {
            version: version.to_owned(),
            name: name.to_owned(),
            admin_url: required("ZHIJIAN_FAULT_PG_URL"),
        }
    }

    /// `pg_ctlcluster … restart -m fast`: every connection is cut, in-flight transactions
    /// roll back, the server is down for a moment. Blocks until it accepts connections.
    pub fn restart(&self) {
        let status = Command::new("pg_ctlcluster")
            .args([
                "--skip-systemctl-redirect",
                &self.version,
                &self.name,
                "restart",
                "-m",
                "fast",
            ])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "pg_ctlcluster restart failed");
    }
}

/// A Redis server of the suite's own on a fixed port, which can be flushed, killed and
/// started again empty.
pub struct Redis {
    server: Option<common::PrivateRedis>,
    port: u16,
}

impl Redis {
    pub fn start() -> Self {
        let server = common::PrivateRedis::start().expect("redis-server is installed");
        let port = server.port();
        Self {
            server: Some(server),
            port,
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli is installed");
        assert!(out.status.success(), "redis-cli {args:?} failed");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn flushall(&self) {
        assert_eq!(self.cli(&["FLUSHALL"]).trim(), "OK");
    }

    /// Keys matching `pattern` now (`SCAN`, so never a blocking `KEYS`).
    pub fn keys(&self, pattern: &str) -> Vec<String> {
        self.cli(&["--scan", "--pattern", pattern])
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// `SIGKILL` (dropping the server kills it).
    pub fn kill(&mut self) {
        self.server.take().expect("running");
    }

    pub fn restart(&mut self) {
        assert!(self.server.is_none(), "kill it first");
        self.server = Some(common::PrivateRedis::start_on(self.port).expect("redis-server restarts"));
    }
}

/// The small file system `.ci/faults` mounted (`ZHIJIAN_FAULT_SMALL_DISK`, a tmpfs of a
/// few MB) and a filler file that takes all of its free space.
pub struct SmallDisk {
    pub dir: PathBuf,
}

impl SmallDisk {
    pub fn from_env() -> Self {
        let root = PathBuf::from(required("ZHIJIAN_FAULT_SMALL_DISK"));
        let dir = root.join(uuid::Uuid::new_v4().simple().to_string());
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir }
    }

    fn filler(&self) -> PathBuf {
        self.dir.join("filler")
    }

    /// Writes until the file system says "no space left".
    pub fn fill(&self) {
        use std::io::Write;
        let mut file = std::fs::File::create(self.filler()).unwrap();
        let block = vec![0u8; 64 * 1024];
        loop {
            match file.write(&block) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
                Err(e) => panic!("filling the small disk: {e}"),
            }
        }
        // The last partial pages, a byte at a time.
        while let Ok(1) = file.write(&[0u8]) {}
        let _ = file.sync_all();
    }

    /// Gives the space back.
    pub fn free(&self) {
        std::fs::remove_file(self.filler()).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Row locks on vouchers held by a transaction of the suite's own (`SELECT … FOR
/// UPDATE`), so that the service's redemptions of them wait inside their transactions.
/// Committed when dropped.
pub struct RowLocks {
    conn: diesel::PgConnection,
}

impl RowLocks {
    pub fn hold(config: &Config, vouchers: &[String]) -> Self {
        use diesel::{Connection, RunQueryDsl};
        let zhijian::db::DatabaseUrl::Postgres(url) = &config.database_url else {
            panic!("row locks are a PostgreSQL case");
        };
        let mut conn = diesel::PgConnection::establish(url).unwrap();
        // The ids are UUIDs the service made; quoting them is enough.
        let ids = vouchers
            .iter()
            .map(|v| format!("'{v}'"))
            .collect::<Vec<_>>()
            .join(",");
        diesel::sql_query("BEGIN").execute(&mut conn).unwrap();
        let locked = diesel::sql_query(format!("SELECT id FROM vouchers WHERE id IN ({ids}) FOR UPDATE"))
            .execute(&mut conn)
            .unwrap();
        assert_eq!(locked, vouchers.len());
        Self { conn }
    }
}

impl Drop for RowLocks {
    fn drop(&mut self) {
        use diesel::RunQueryDsl;
        let _ = diesel::sql_query("COMMIT").execute(&mut self.conn);
    }
}
