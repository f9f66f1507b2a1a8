//! The budgets a refresh meets, and whose they are: a refresh hashes nothing, so it is not
//! counted against the sign-in budgets; and the global budgets guard one instance's own
//! threads, so every instance counts its own second (docs/capacity.md, "Sign-ins").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use std::time::Duration;

use common::addresses::{assert_rate_limited, behind_a_proxy};
use common::*;
use futures_util::future::join_all;
use reqwest::StatusCode;

/// A station's Wi-Fi: many workers, one address.
const STATION: &str = "203.0.113.40";
const ELSEWHERE: &str = "198.51.100.41";

fn refused(statuses: &[StatusCode]) -> usize {
    statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count()
}

#[tokio::test]
async fn refreshes_from_an_address_whose_sign_ins_are_spent_go_on_within_their_own_budget() {
    let app = spawn_app_with(|c| {
        behind_a_proxy(c);
        c.limits.auth_address_max = 2;
        c.limits.refresh_address_max = 3;
        c.limits.auth_address_window = Duration::from_secs(3600);
        // A spent token presented again is then refused, so a refusal that spent one shows.
        c.limits.refresh_retry_grace = Duration::ZERO;
    })
    .await;
    let phone = random_phone();
    app.register(&phone, "王小明").await;
    let first = app.login_from(STATION, &phone, PASSWORD).await;
    let mut token = Tokens::from_answer(first).await.refresh;
    let second = app.login_from(STATION, &phone, PASSWORD).await;
    assert_eq!(second.status(), StatusCode::OK);
    assert_rate_limited(app.login_from(STATION, &phone, PASSWORD).await, 3600).await;

    for _ in 0..3 {
        token = Tokens::from_answer(app.refresh_from(STATION, &token).await)
            .await
            .refresh;
    }
    // The fourth is refused before the token is looked at: it stays usable elsewhere.
    assert_rate_limited(app.refresh_from(STATION, &token).await, 3600).await;
    Tokens::from_answer(app.refresh_from(ELSEWHERE, &token).await).await;
}

#[tokio::test]
async fn each_instance_counts_its_own_sign_ins_per_second() {
    let app = spawn_app_with(|c| c.limits.auth_global_max = 3).await;
    let other = start(app.config.clone(), None).await;
    let phones: Vec<String> = (0..8).map(|_| random_phone()).collect();
    // The other instance's sign-in goes while the burst is in flight (its admitted
    // sign-ins still hashing), inside the same second.
    let (burst, elsewhere) = tokio::join!(join_all(phones.iter().map(|p| app.login(p, PASSWORD))), async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        other.login(&random_phone(), PASSWORD).await
    });
    let statuses: Vec<StatusCode> = burst.iter().map(reqwest::Response::status).collect();
    // Three a second: at least two refused even if the burst straddles two seconds.
    assert!(refused(&statuses) >= 2, "{statuses:?}");
    // The other instance's hashing threads are its own: its sign-in is heard (an unknown
    // phone: 401, not 429), on a shared Redis too.
    assert_problem(elsewhere, 401, "INVALID_CREDENTIALS").await;
}

/// Five sessions signed in at `app`; their refresh tokens.
async fn five_sessions(app: &TestApp) -> Vec<String> {
    let mut tokens = Vec::new();
    for i in 0..5 {
        let phone = random_phone();
        app.register(&phone, &format!("骑手{i}")).await;
        tokens.push(app.login_ok(&phone).await.refresh);
    }
    tokens
}

/// The answers to refreshing every one of `tokens` at once at `app`.
async fn refresh_all(app: &TestApp, tokens: &[String]) -> Vec<reqwest::Response> {
    join_all(tokens.iter().map(|t| app.refresh(t))).await
}

#[tokio::test]
async fn an_instance_admits_its_refreshes_per_second_and_not_against_sign_ins() {
    let app = spawn_app().await;
    let tokens = five_sessions(&app).await;
    // Instances over the same database, one strict about refreshes, one about sign-ins.
    let mut strict = app.config.clone();
    strict.limits.refresh_global_max = 1;
    let strict = start(strict, None).await;
    let mut hashing = app.config.clone();
    hashing.limits.auth_global_max = 1;
    let hashing = start(hashing, None).await;

    let answers = refresh_all(&strict, &tokens).await;
    let statuses: Vec<StatusCode> = answers.iter().map(reqwest::Response::status).collect();
    // One a second: at least three of five refused even across a second's edge.
    assert!(refused(&statuses) >= 3, "{statuses:?}");
    let one = answers
        .into_iter()
        .find(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
        .unwrap();
    assert_rate_limited(one, 1).await;

    // A sign-in budget of one a second does not hold refreshes back.
    let fresh = five_sessions(&app).await;
    for answer in refresh_all(&hashing, &fresh).await {
        assert_eq!(answer.status(), StatusCode::OK);
    }
}
