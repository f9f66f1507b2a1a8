//! The `zhijian` binary itself: its subcommands and a graceful stop on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::binary::zhijian;
use common::*;

#[test]
fn migrate_create_admin_and_seed_demo() {
    let (config, _dir) = fresh_config();
    let out = zhijian(&config).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let admin = |phone: &str| {
        zhijian(&config)
            .args(["create-admin", "--phone", phone, "--name", "平台管理员"])
            .env("ADMIN_PASSWORD", PASSWORD)
            .output()
            .unwrap()
    };
    let created = admin("13912345678");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(String::from_utf8_lossy(&created.stdout).contains("platform_admin created"));
    let again = admin("13912345678");
    assert!(!again.status.success(), "a phone registers once");
    let bad = admin("12345");
    assert!(!bad.status.success());

    let seeded = zhijian(&config).arg("seed-demo").output().unwrap();
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let text = String::from_utf8_lossy(&seeded.stdout);
    assert!(
        text.contains("13900000001") && text.contains("zhijian-demo") && text.contains("暖心礼包"),
        "{text}"
    );
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish() {
    let (config, _dir) = fresh_config();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = zhijian(&config)
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("HASH_CONCURRENCY", "1")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut ready = false;
    for _ in 0..200 {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "the service came up");

    // Eight sign-ups queue on one hashing slot, so some are in flight when SIGTERM lands.
    let signups: Vec<_> = (0..8)
        .map(|_| {
            let (client, url) = (client.clone(), format!("{base}/api/v1/auth/register"));
            tokio::spawn(async move {
                let body = serde_json::json!({"phone": random_phone(), "password": PASSWORD, "name": "王"});
                client
                    .post(url)
                    .json(&body)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            })
        })
        .collect();
    // Long enough for every request to be accepted even on a loaded machine (a request
    // not yet accepted when SIGTERM lands is refused, rightly), short of eight hashes.
    tokio::time::sleep(Duration::from_millis(250)).await;
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    for signup in signups {
        assert_eq!(signup.await.unwrap().expect("answered, not dropped"), 201);
    }
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exits cleanly: {status}");
}
