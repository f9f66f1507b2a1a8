//! Counter answers for people (issue 9, fault 15): a counter learns its union and stations
//! from `/me`, a second redemption says when (Beijing time) and where by name, a refused
//! station says why, a lookup names the campaign's stations and the holder's member number,
//! a terminal may be named in Chinese, and a code another counter is redeeming is "in
//! progress" only after the answers that come first.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use common::*;
use reqwest::header::HeaderValue;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn me(app: &TestApp, token: &str) -> Value {
    app.get_auth("/api/v1/me", token).await.json().await.unwrap()
}

/// The `name`s of a JSON list of stations, or the strings of a list of names, sorted.
fn sorted_names(list: &Value) -> Vec<String> {
    let items = list.as_array().unwrap().iter();
    let mut names: Vec<String> = items
        .map(|n| n.get("name").unwrap_or(n).as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn staff_learn_their_union_and_counters_their_stations_from_me() {
    let app = spawn_app().await;
    let w = app.world().await;
    let both = app
        .staff(
            &w.luqiao_admin.access,
            "counter",
            &w.luqiao,
            &[&w.luqiao_station, &w.luqiao_station_2],
        )
        .await;
    let me_counter = me(&app, &w.luqiao_counter.access).await;
    assert_eq!(me_counter["union"]["id"], w.luqiao.as_str());
    assert_eq!(me_counter["union"]["name"], "路桥区总工会");
    let stations = me_counter["stations"].as_array().unwrap();
    assert_eq!(stations.len(), 1, "{me_counter}");
    assert_eq!(stations[0]["id"], w.luqiao_station.as_str());
    assert_eq!(stations[0]["name"], "路桥驿站");
    assert_eq!(stations[0]["union_id"], w.luqiao.as_str());
    assert_eq!(
        sorted_names(&me(&app, &both.access).await["stations"]),
        ["路桥驿站", "金清驿站"]
    );
    let me_admin = me(&app, &w.jiaojiang_admin.access).await;
    assert_eq!(me_admin["union"]["id"], w.jiaojiang.as_str());
    assert_eq!(me_admin["union"]["name"], "椒江区总工会");
}

/// A claimed voucher's code of a courier campaign redeemable at 路桥驿站 only.
async fn luqiao_code(app: &TestApp, w: &world::World) -> String {
    let campaign = app.luqiao_campaign(w, 5).await;
    let rider = app.riders(1).await.remove(0);
    let v: Value = app.claim(&campaign, &rider.access).await.json().await.unwrap();
    v["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_second_redemption_says_when_in_beijing_time_and_where_by_name() {
    let app = spawn_app().await;
    let w = app.world().await;
    let code = &luqiao_code(&app, &w).await;
    // A terminal named the way a union office names it.
    let first = app
        .client
        .post(app.url("/api/v1/counter/redemptions"))
        .bearer_auth(&w.luqiao_counter.access)
        .header(
            "X-Terminal-Id",
            HeaderValue::from_bytes("前台1号".as_bytes()).unwrap(),
        )
        .json(&json!({"code": code, "station_id": w.luqiao_station}))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["terminal_id"], "前台1号");

    let again = app
        .redeem(&w.luqiao_counter.access, code, &w.luqiao_station)
        .await;
    let problem = assert_problem(again, 409, "ALREADY_REDEEMED").await;
    let at = first["redeemed_at"].as_str().unwrap();
    assert!(at.ends_with('Z'), "{at}");
    assert_eq!(problem["redeemed_at"], at);
    assert_eq!(problem["station_id"], w.luqiao_station.as_str());
    assert_eq!(problem["station_name"], "路桥驿站");
    let beijing = chrono::DateTime::parse_from_rfc3339(at)
        .unwrap()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains(&beijing) && detail.contains("路桥驿站"),
        "{detail} / {beijing}"
    );
    assert!(
        !detail.contains("UTC") && !detail.contains(&w.luqiao_station),
        "{detail}"
    );
}

#[tokio::test]
async fn station_not_allowed_says_which_of_the_two_it_is() {
    let app = spawn_app().await;
    let w = app.world().await;
    let code = &luqiao_code(&app, &w).await;
    // The campaign's own station, but this counter is not bound to it.
    let not_bound = app
        .redeem(&w.jiaojiang_counter.access, code, &w.luqiao_station)
        .await;
    let not_bound = assert_problem(not_bound, 403, "STATION_NOT_ALLOWED").await;
    assert!(
        not_bound["detail"].as_str().unwrap().contains("未绑定"),
        "{not_bound}"
    );
    // These counters are at their own stations, which the campaign does not use.
    let jinqing = app
        .staff(
            &w.luqiao_admin.access,
            "counter",
            &w.luqiao,
            &[&w.luqiao_station_2],
        )
        .await;
    for (token, station) in [
        (&jinqing.access, &w.luqiao_station_2),
        (&w.jiaojiang_counter.access, &w.jiaojiang_station),
    ] {
        let elsewhere = app.redeem(token, code, station).await;
        let elsewhere = assert_problem(elsewhere, 403, "STATION_NOT_ALLOWED").await;
        assert!(
            elsewhere["detail"].as_str().unwrap().contains("不在本活动"),
            "{elsewhere}"
        );
        assert_ne!(elsewhere["detail"], not_bound["detail"]);
    }
    // A code that names nothing: the station is still judged first.
    let nothing = &format!("{}{}", if code.starts_with('A') { 'B' } else { 'A' }, &code[1..]);
    let unknown_unbound = app
        .redeem(&w.jiaojiang_counter.access, nothing, &w.luqiao_station)
        .await;
    let unknown_unbound = assert_problem(unknown_unbound, 403, "STATION_NOT_ALLOWED").await;
    assert_eq!(unknown_unbound["detail"], not_bound["detail"]);
    let unknown_here = app
        .redeem(&w.luqiao_counter.access, nothing, &w.luqiao_station)
        .await;
    assert_problem(unknown_here, 404, "VOUCHER_NOT_FOUND").await;
}

#[tokio::test]
async fn a_lookup_names_the_campaign_stations_and_the_holders_member_number() {
    let app = spawn_app().await;
    let w = app.world().await;
    let stations = [w.luqiao_station.as_str(), w.luqiao_station_2.as_str()];
    let campaign = app
        .campaign(
            &w.luqiao_admin.access,
            &w.luqiao,
            5,
            campaigns::courier_rules(),
            &stations,
        )
        .await;
    let (_, member, _) = app.member(&w.luqiao, &w.luqiao_admin).await;
    let member_no = me(&app, &member.access).await["membership"]["member_no"].clone();
    assert!(member_no.is_string());
    let v: Value = app.claim(&campaign, &member.access).await.json().await.unwrap();
    let found: Value = app
        .post_auth(
            "/api/v1/counter/lookups",
            &w.luqiao_counter.access,
            &json!({"code": v["code"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["holder_member_no"], member_no);
    assert_eq!(sorted_names(&found["station_names"]), ["路桥驿站", "金清驿站"]);
}

#[tokio::test]
async fn a_code_another_counter_holds_is_in_progress_after_its_own_refusals() {
    let Some(url) = redis_url() else {
        eprintln!("in-process locks cannot be held from outside: this runs in the Redis suite");
        return;
    };
    let app = spawn_app_with(|c| c.limits.code_guess_max = 2).await;
    let w = app.world().await;
    let code = luqiao_code(&app, &w).await;
    let code = code.as_str();
    // Another counter's redemption of this code is in flight: it holds the code's lock.
    let locks = zhijian::locks::Locks::redis(&url, &app.config.redis_key_prefix)
        .await
        .unwrap();
    let keys = zhijian::domain::voucher_code::VoucherKeys::new(TEST_VOUCHER_KEY.as_bytes());
    let hash = keys.lookup_hash(&zhijian::domain::voucher_code::VoucherCode::parse(code).unwrap());
    let held = locks
        .try_acquire(&format!("lock:redeem:{hash}"), std::time::Duration::from_secs(30))
        .await
        .unwrap()
        .expect("nobody holds it yet");
    // A station not the counter's is still the first answer.
    assert_problem(
        app.redeem(&w.jiaojiang_counter.access, code, &w.luqiao_station)
            .await,
        403,
        "STATION_NOT_ALLOWED",
    )
    .await;
    for _ in 0..3 {
        assert_problem(
            app.redeem(&w.luqiao_counter.access, code, &w.luqiao_station)
                .await,
            423,
            "REDEMPTION_IN_PROGRESS",
        )
        .await;
    }
    locks.release(&held).await.unwrap();
    assert_eq!(
        app.redeem(&w.luqiao_counter.access, code, &w.luqiao_station)
            .await
            .status()
            .as_u16(),
        201
    );
    assert_problem(
        app.redeem(&w.luqiao_counter.access, code, &w.luqiao_station)
            .await,
        409,
        "ALREADY_REDEEMED",
    )
    .await;
    // Five answers about a real code, and none of them spent the budget of two guesses.
    let limited = app
        .guess_codes(&w.luqiao_counter.access, &w.luqiao_station, 2)
        .await;
    assert_problem(limited, 429, "RATE_LIMITED").await;
    // The 429 never took the lock of the code it was refused for, and the others gave the
    // real code's back.
    for code in [code.to_owned(), format!("{:016}", 2)] {
        let hash = keys.lookup_hash(&zhijian::domain::voucher_code::VoucherCode::parse(&code).unwrap());
        let (key, ttl) = (format!("lock:redeem:{hash}"), std::time::Duration::from_secs(1));
        assert!(locks.try_acquire(&key, ttl).await.unwrap().is_some(), "{code}");
    }
}
