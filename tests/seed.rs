#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use common::*;
use serde_json::Value;

#[tokio::test]
async fn seed_demo_builds_a_usable_world_and_can_run_twice() {
    let (config, dir) = fresh_config();
    let pool = zhijian::startup::prepare_database(&config.database_url, 2)
        .await
        .unwrap();
    let keys = || zhijian::domain::voucher_code::VoucherKeys::new(TEST_VOUCHER_KEY.as_bytes());
    zhijian::seed::run(pool.clone(), keys()).await.unwrap();
    zhijian::seed::run(pool.clone(), keys()).await.unwrap();
    let found = zhijian::check::run(&mut pool.get().unwrap()).unwrap();
    assert!(found.is_empty(), "the demo world is consistent: {found:?}");

    let app = start(config, dir).await;
    let login = |phone: &'static str| app.login(phone, zhijian::seed::DEMO_PASSWORD);
    let worker: Value = login("13800000001").await.json().await.unwrap();
    let me: Value = app
        .get_auth("/api/v1/me", worker["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["membership"]["status"], "member");
    assert_eq!(me["occupation_verified"], true);

    let admin: Value = login("13900000001").await.json().await.unwrap();
    let members: Value = app
        .get_auth(
            "/api/v1/admin/workers?limit=100",
            admin["access_token"].as_str().unwrap(),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(members["items"].as_array().unwrap().len(), 8);

    let campaigns: Value = app
        .get_auth("/api/v1/campaigns", worker["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    let items = campaigns["items"].as_array().unwrap();
    let mut titles: Vec<&str> = items.iter().map(|c| c["title"].as_str().unwrap()).collect();
    titles.sort_unstable();
    titles.dedup();
    assert_eq!(
        (items.len(), titles.len()),
        (3, 3),
        "seeding twice made one campaign of each: {campaigns}"
    );
    let care_packs = items.iter().find(|c| c["total_stock"] == 900).unwrap();
    let id = care_packs["id"].as_str().unwrap();
    let claimed = app.claim(id, worker["access_token"].as_str().unwrap()).await;
    assert_eq!(claimed.status().as_u16(), 201);
    let voucher: Value = claimed.json().await.unwrap();
    // A sanitation worker is a member but not covered by the occupations.
    let sanitation: Value = login("13800000005").await.json().await.unwrap();
    assert_problem(
        app.claim(id, sanitation["access_token"].as_str().unwrap()).await,
        403,
        "NOT_ELIGIBLE",
    )
    .await;

    // The demo counter redeems the demo voucher at its own station.
    let counter: Value = login("13900000002").await.json().await.unwrap();
    let counter = counter["access_token"].as_str().unwrap();
    let found: Value = app
        .post_auth(
            "/api/v1/counter/lookups",
            counter,
            &serde_json::json!({"code": voucher["code"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["redeemable_here"], true);
    assert_eq!(found["holder_name_masked"], "王**");
    let stations: Value = app
        .get_auth("/api/v1/stations", worker["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stations["items"].as_array().unwrap().len(), 2);

    // The 广西-style allocation: the four hardship members, three delivered in two rounds
    // on two days and rated, one left on the counter's delivery list.
    let admin = admin["access_token"].as_str().unwrap();
    let rice = items.iter().find(|c| c["mode"] == "allocate").unwrap();
    assert_eq!(rice["fulfilment"], "delivery");
    let rice = rice["id"].as_str().unwrap();
    let stats = app.stats(rice, admin).await;
    assert_eq!(stats["claimed"], 4, "{stats}");
    assert_eq!(stats["delivered"], 3, "{stats}");
    assert_eq!(stats["delivered_by_day"].as_array().unwrap().len(), 2, "{stats}");
    assert_eq!(stats["rating"]["count"], 3, "{stats}");
    let list: Value = app
        .get_auth(&format!("/api/v1/counter/deliveries?campaign_id={rice}"), counter)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    assert!(list["items"][0]["address"]
        .as_str()
        .unwrap()
        .starts_with("台州市路桥区"));
    let wishes: Value = app
        .get_auth("/api/v1/admin/wishes/summary", admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(wishes["open"], 4, "{wishes}");
}
