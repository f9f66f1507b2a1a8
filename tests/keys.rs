//! Keys across restarts and copies (issue 9, faults 1 and 9): a start with another
//! VOUCHER_KEY or JWT_SECRET than the database was used with refuses to serve, and in
//! SQLite mode the generated keys live in 0600 files beside a 0600 database, never in it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use zhijian::db::DatabaseUrl;
use zhijian::startup::Application;

/// The audit trail's signing key is one per process (`domain::audit::use_key`, set by every
/// start), and these tests start apps with keys of their own: they run one at a time, or an
/// entry one app writes is signed with another test's key and `audit verify` fails.
static ONE_AT_A_TIME: std::sync::LazyLock<tokio::sync::Mutex<()>> =
    std::sync::LazyLock::new(|| tokio::sync::Mutex::new(()));

/// A key as the README's `openssl rand -hex 32` makes one.
fn random_key() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The message of a start that must be refused.
async fn refused(config: zhijian::config::Config) -> String {
    match Application::build(config).await {
        Ok(_) => panic!("the application started"),
        Err(e) => format!("{e:#}"),
    }
}

#[tokio::test]
async fn another_voucher_key_refuses_to_start_and_the_same_key_keeps_every_code() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (mut config, dir) = fresh_config();
    config.voucher_key = Some(TEST_VOUCHER_KEY.into());
    let first = start(config.clone(), None).await;
    let w = first.world().await;
    let campaign = first.luqiao_campaign(&w, 5).await;
    let rider = first.riders(1).await.remove(0);
    let claimed: Value = first.claim(&campaign, &rider.access).await.json().await.unwrap();
    let code = claimed["code"].as_str().unwrap().to_owned();

    // The README's old PostgreSQL example: a fresh random key on every start.
    let mut rotated = config.clone();
    rotated.voucher_key = Some(random_key());
    let message = refused(rotated).await;
    assert!(message.contains("VOUCHER_KEY"), "{message}");

    // The refused start changed nothing: the right key starts, and the code still works.
    let second = start(config, dir).await;
    let wallet = second.wallet(&rider.access).await;
    assert_eq!(wallet["items"][0]["code"], code.as_str());
    let found = second
        .post_auth(
            "/api/v1/counter/lookups",
            &w.luqiao_counter.access,
            &json!({"code": code}),
        )
        .await;
    assert_eq!(found.status(), StatusCode::OK);
    assert_eq!(found.json::<Value>().await.unwrap()["voucher_id"], claimed["id"]);
}

#[tokio::test]
async fn another_jwt_secret_refuses_to_start_and_the_same_secret_keeps_sessions() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (config, dir) = fresh_config();
    let first = start(config.clone(), None).await;
    let (_, tokens) = first.worker().await;

    let mut other = config.clone();
    other.jwt_secret = Some(random_key());
    let message = refused(other).await;
    assert!(message.contains("JWT_SECRET"), "{message}");

    let second = start(config, dir).await;
    let me = second.get_auth("/api/v1/me", &tokens.access).await;
    assert_eq!(me.status(), StatusCode::OK);
    second.refresh_ok(&tokens.refresh).await;
}

fn sqlite_path(config: &zhijian::config::Config) -> String {
    match &config.database_url {
        DatabaseUrl::Sqlite(path) => path.clone(),
        DatabaseUrl::Postgres(_) => unreachable!("SQLite only"),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(unix)]
#[tokio::test]
async fn sqlite_keeps_generated_keys_in_0600_files_and_never_in_the_0600_database() {
    use std::os::unix::fs::PermissionsExt;
    let _one = ONE_AT_A_TIME.lock().await;
    let (mut config, dir) = fresh_config();
    if config.database_url.is_postgres() {
        eprintln!("PostgreSQL: keys come from the environment; the file checks are SQLite's");
        return;
    }
    config.jwt_secret = None;
    config.voucher_key = None;
    let db = sqlite_path(&config);
    let app = start(config.clone(), None).await;
    // Write through every table a key could hide in: accounts, sessions, a voucher.
    let w = app.world().await;
    let campaign = app.luqiao_campaign(&w, 5).await;
    let (_, worker) = app.worker().await;
    assert_eq!(
        app.claim(&campaign, &worker.access).await.status(),
        StatusCode::CREATED
    );

    let mode = |path: &str| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let mut keys = Vec::new();
    for suffix in [".jwt-key", ".voucher-key"] {
        let path = format!("{db}{suffix}");
        assert!(std::path::Path::new(&path).exists(), "{path} was written");
        assert_eq!(mode(&path), 0o600, "{path}");
        let raw = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&raw).trim().to_owned();
        assert!(text.len() >= 32, "{path} holds a key");
        keys.push(text.as_bytes().to_vec());
        if let Ok(decoded) = hex::decode(&text) {
            keys.push(decoded);
        }
    }
    // The database and its WAL/SHM companions: private, and no key inside.
    let dir_path = std::path::Path::new(&db).parent().unwrap();
    let db_name = std::path::Path::new(&db)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let mut db_files = 0;
    for entry in std::fs::read_dir(dir_path).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !name.starts_with(&db_name) || name.ends_with("-key") {
            continue;
        }
        let path = dir_path.join(&name).to_string_lossy().into_owned();
        db_files += 1;
        assert_eq!(mode(&path), 0o600, "{path}");
        let bytes = std::fs::read(&path).unwrap();
        for key in &keys {
            assert!(!contains(&bytes, key), "{name} holds a key");
        }
    }
    assert!(db_files >= 1, "the database file was found");
    assert_eq!(mode(&db), 0o600);

    // Generated keys are recorded too: setting a different one later is refused.
    let mut explicit = config.clone();
    explicit.voucher_key = Some(random_key());
    assert!(refused(explicit).await.contains("VOUCHER_KEY"));
    let mut explicit = config.clone();
    explicit.jwt_secret = Some(random_key());
    assert!(refused(explicit).await.contains("JWT_SECRET"));
    drop(dir);
}

#[tokio::test]
async fn a_copy_of_the_sqlite_database_alone_signs_no_tokens() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (mut config, dir) = fresh_config();
    if config.database_url.is_postgres() {
        eprintln!("PostgreSQL: no key is ever generated into the database");
        return;
    }
    config.jwt_secret = None;
    config.voucher_key = None;
    let db = sqlite_path(&config);
    let app = start(config.clone(), None).await;
    let admin = app.platform_admin().await;

    // Someone copies the database (and its WAL), not the key files beside it.
    let stolen = tempfile::tempdir().unwrap();
    let copy = stolen.path().join("zhijian.db").to_string_lossy().into_owned();
    std::fs::copy(&db, &copy).unwrap();
    if std::path::Path::new(&format!("{db}-wal")).exists() {
        std::fs::copy(format!("{db}-wal"), format!("{copy}-wal")).unwrap();
    }
    let mut theirs = config.clone();
    theirs.database_url = DatabaseUrl::Sqlite(copy);
    match Application::build(theirs).await {
        // Refusing to serve with keys other than the recorded ones is one good answer…
        Err(e) => {
            let message = format!("{e:#}");
            assert!(
                ["JWT_SECRET", "VOUCHER_KEY", "jwt-key", "voucher-key"]
                    .iter()
                    .any(|name| message.contains(name)),
                "{message}"
            );
        }
        // …serving with new keys is the other: the platform admin's token means nothing there.
        Ok(copy_app) => {
            let base = format!("http://127.0.0.1:{}", copy_app.port());
            tokio::spawn(copy_app.run_until_stopped());
            let resp = app
                .client
                .get(format!("{base}/api/v1/me"))
                .bearer_auth(&admin.access)
                .send()
                .await
                .unwrap();
            assert_problem(resp, 401, "TOKEN_INVALID").await;
        }
    }
    drop(dir);
}

/// A leaked key is replaced on purpose: every code changes at once, the old ones stop
/// working, sessions survive a new signing secret, and the old keys can no longer start.
#[tokio::test]
async fn rotate_keys_replaces_every_code_and_keeps_sessions() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (mut config, dir) = fresh_config();
    config.voucher_key = Some(TEST_VOUCHER_KEY.into());
    let first = start(config.clone(), None).await;
    let w = first.world().await;
    let campaign = first.luqiao_campaign(&w, 5).await;
    let rider = first.riders(1).await.remove(0);
    let claimed: Value = first.claim(&campaign, &rider.access).await.json().await.unwrap();
    let old_code = claimed["code"].as_str().unwrap().to_owned();

    let (new_voucher_key, new_jwt_secret) = (random_key(), random_key());
    let pool = zhijian::db::connect(&config.database_url, 1).unwrap();
    let rotated = zhijian::keys::rotation::rotate(
        &config,
        &mut pool.get().unwrap(),
        Some(&new_voucher_key),
        Some(&new_jwt_secret),
    )
    .unwrap();
    assert_eq!(rotated.vouchers_rekeyed, 1);
    assert!(refused(config.clone()).await.contains("VOUCHER_KEY"));

    let mut next = config.clone();
    next.voucher_key = Some(new_voucher_key);
    next.jwt_secret = Some(new_jwt_secret);
    let second = start(next, dir).await;
    // The old access token is signed with the old secret; the session refreshes.
    let tokens = second.refresh_ok(&rider.refresh).await;
    let wallet = second.wallet(&tokens.access).await;
    let new_code = wallet["items"][0]["code"].as_str().unwrap().to_owned();
    assert_ne!(new_code, old_code);
    let counter = second.refresh_ok(&w.luqiao_counter.refresh).await.access;
    for (code, status) in [(new_code.as_str(), 200), (old_code.as_str(), 404)] {
        let found = second
            .post_auth("/api/v1/counter/lookups", &counter, &json!({"code": code}))
            .await;
        assert_eq!(found.status().as_u16(), status, "{code}");
    }
    // The audit trail was signed again with the new key: it still verifies.
    let cfg = second.config.clone();
    let out = tokio::task::spawn_blocking(move || {
        common::binary::zhijian(&cfg)
            .args(["audit", "verify"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
}
