//! Starts the real application on port 0 with a fresh database for each test.
//!
//! Backends come from the environment: unset → a new SQLite file and in-process locks;
//! `ZHIJIAN_TEST_DATABASE_URL=postgres://…/postgres` → a new PostgreSQL database per
//! test; `ZHIJIAN_TEST_REDIS_URL` → Redis, with a key prefix per test.
#![allow(dead_code)]

pub mod addresses;
pub mod binary;
pub mod campaigns;
pub mod jobs;
pub mod partners;
pub mod readable;
pub mod receiver;
pub mod world;

use diesel::{Connection, PgConnection, RunQueryDsl};
use rand::Rng;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use zhijian::config::Config;
use zhijian::db::DatabaseUrl;
use zhijian::startup::Application;

pub const TEST_JWT_SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";
pub const PASSWORD: &str = "correct-horse-42";
pub const TEST_VOUCHER_KEY: &str = "test-voucher-key-that-is-at-least-32-bytes";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub config: Config,
    _dir: Option<tempfile::TempDir>,
}

pub fn redis_url() -> Option<String> {
    std::env::var("ZHIJIAN_TEST_REDIS_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

fn fresh_postgres(admin_url: &str) -> String {
    let name = format!("zj_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::establish(admin_url).expect("PostgreSQL for tests is reachable");
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .expect("create test database");
    let (base, _) = admin_url.rsplit_once('/').expect("database URL has a path");
    // No TLS to the local server: libpq's OpenSSL is torn down at process exit while the
    // apps' background threads may still be mid-query, which can crash the test binary.
    format!("{base}/{name}?sslmode=disable")
}

/// A config for a fresh database of the backend under test.
pub fn fresh_config() -> (Config, Option<tempfile::TempDir>) {
    match std::env::var("ZHIJIAN_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
    {
        Some(admin) => (postgres_config(&admin), None),
        None => {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("zhijian.db").to_string_lossy().into_owned();
            (sqlite_config(&path), Some(dir))
        }
    }
}

/// A config for a fresh database on the PostgreSQL server whose administrative URL
/// (`…/postgres`) is `admin_url`, with the test keys and Redis (when configured).
pub fn postgres_config(admin_url: &str) -> Config {
    with_test_keys(DatabaseUrl::Postgres(fresh_postgres(admin_url)))
}

/// A config for the SQLite file at `path`, with the test keys and Redis (when configured).
pub fn sqlite_config(path: &str) -> Config {
    with_test_keys(DatabaseUrl::Sqlite(path.to_owned()))
}

fn with_test_keys(url: DatabaseUrl) -> Config {
    let mut config = Config::with_database(url);
    config.jwt_secret = Some(TEST_JWT_SECRET.into());
    // One key for every app of a test binary: audit entries are signed with the process's
    // key (domain/audit.rs). tests/keys.rs clears it where it tests generated keys.
    config.voucher_key = Some(TEST_VOUCHER_KEY.into());
    config.redis_url = redis_url();
    config.redis_key_prefix = format!("zj-test:{}:", uuid::Uuid::new_v4().simple());
    config
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let (mut config, dir) = fresh_config();
    tweak(&mut config);
    start(config, dir).await
}

/// Starts another instance over the same configuration (same database, same Redis).
pub async fn start(config: Config, dir: Option<tempfile::TempDir>) -> TestApp {
    let app = Application::build(config.clone())
        .await
        .expect("application starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        _dir: dir,
        ..TestApp::attached(base, config)
    }
}

pub fn random_phone() -> String {
    format!("139{:08}", rand::thread_rng().gen_range(0..100_000_000u32))
}

#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

impl Tokens {
    fn from_json(v: &Value) -> Self {
        Self {
            access: v["access_token"].as_str().expect("access_token").to_owned(),
            refresh: v["refresh_token"].as_str().expect("refresh_token").to_owned(),
        }
    }

    /// The pair a sign-in or refresh answered, which must be 200.
    pub async fn from_answer(resp: Response) -> Self {
        assert_eq!(resp.status(), StatusCode::OK);
        Self::from_json(&resp.json().await.expect("json"))
    }
}

impl TestApp {
    /// The helpers of a test app, aimed at a service running elsewhere (a `zhijian`
    /// process) over `config`'s database.
    pub fn attached(base: String, config: Config) -> Self {
        Self {
            base,
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("http client"),
            config,
            _dir: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_auth(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn patch_auth(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// The body of an unauthenticated `GET path` (`/metrics`, the spec), as text.
    pub async fn text(&self, path: &str) -> String {
        let resp = self.client.get(self.url(path)).send().await.expect("request");
        resp.text().await.expect("body")
    }

    pub async fn get_auth(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn register(&self, phone: &str, name: &str) -> Value {
        let resp = self
            .post(
                "/api/v1/auth/register",
                &json!({"phone": phone, "password": PASSWORD, "name": name, "occupation": "food_delivery", "region_code": "331004"}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.json().await.expect("json")
    }

    pub async fn login(&self, phone: &str, password: &str) -> Response {
        self.post(
            "/api/v1/auth/login",
            &json!({"phone": phone, "password": password}),
        )
        .await
    }

    pub async fn login_ok(&self, phone: &str) -> Tokens {
        Tokens::from_answer(self.login(phone, PASSWORD).await).await
    }

    /// `POST /api/v1/auth/logout` with `refresh_token`.
    pub async fn logout(&self, refresh_token: &str) -> Response {
        self.post("/api/v1/auth/logout", &json!({"refresh_token": refresh_token}))
            .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post("/api/v1/auth/refresh", &json!({"refresh_token": refresh_token}))
            .await
    }

    pub async fn refresh_ok(&self, refresh_token: &str) -> Tokens {
        Tokens::from_answer(self.refresh(refresh_token).await).await
    }

    /// A new worker, signed in.
    pub async fn worker(&self) -> (String, Tokens) {
        let phone = random_phone();
        self.register(&phone, "王小明").await;
        let tokens = self.login_ok(&phone).await;
        (phone, tokens)
    }
}

/// Asserts an RFC 9457 problem with the given status and code; returns the body.
pub async fn assert_problem(resp: Response, status: u16, code: &str) -> Value {
    assert_eq!(resp.status().as_u16(), status, "status");
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(content_type, "application/problem+json");
    let request_id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: Value = resp.json().await.expect("problem body is JSON");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status);
    assert_eq!(body["type"], "about:blank");
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(body["request_id"], request_id.as_str());
    body
}

/// A redis-server of a test's own, on a free port, killed when dropped: for tests that
/// take Redis away without disturbing the shared one.
pub struct PrivateRedis {
    child: std::process::Child,
    port: u16,
}

impl PrivateRedis {
    /// `None` when redis-server is not installed.
    pub fn start() -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        Self::start_on(port)
    }

    /// A fresh (empty) server on a given port: Redis "restarted".
    pub fn start_on(port: u16) -> Option<Self> {
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let redis = Self { child, port };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(redis);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("private redis-server did not start");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
