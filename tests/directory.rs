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
async fn the_union_directory_filters_by_parent_and_region() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (_, worker) = app.worker().await;
    let children: Value = app
        .get_auth(&format!("/api/v1/unions?parent_id={}", w.city), &worker.access)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = children["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&w.luqiao.as_str()) && ids.contains(&w.jiaojiang.as_str()));
    let luqiao: Value = app
        .get_auth("/api/v1/unions?region_code=331004", &worker.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(luqiao["items"][0]["id"], w.luqiao.as_str());
    assert_eq!(luqiao["items"][0]["kind"], "district");

    let page: Value = app
        .get_auth("/api/v1/unions?limit=2", &worker.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest: Value = app
        .get_auth(&format!("/api/v1/unions?limit=2&cursor={cursor}"), &worker.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());
    assert_problem(
        app.get_auth("/api/v1/unions?limit=500", &worker.access).await,
        400,
        "INVALID_REQUEST",
    )
    .await;
}

#[tokio::test]
async fn stations_come_nearest_first() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (_, worker) = app.worker().await;
    // Standing in 椒江: its station first.
    let near: Value = app
        .get_auth("/api/v1/stations?lat=28.66&lng=121.44", &worker.access)
        .await
        .json()
        .await
        .unwrap();
    let items = near["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["id"], w.jiaojiang_station.as_str());
    let distances: Vec<u64> = items.iter().map(|s| s["distance_m"].as_u64().unwrap()).collect();
    assert!(distances.windows(2).all(|d| d[0] <= d[1]), "{distances:?}");

    let luqiao: Value = app
        .get_auth(&format!("/api/v1/stations?union_id={}", w.luqiao), &worker.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(luqiao["items"].as_array().unwrap().len(), 2);
    let city: Value = app
        .get_auth(
            &format!("/api/v1/stations?union_id={}&limit=2", w.city),
            &worker.access,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(city["items"].as_array().unwrap().len(), 2);
    assert!(city["next_cursor"].is_string(), "a keyset cursor: {city}");
    assert_problem(
        app.get_auth("/api/v1/stations?lat=28.6", &worker.access).await,
        400,
        "INVALID_REQUEST",
    )
    .await;
}
