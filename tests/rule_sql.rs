//! A campaign's rules as SQL (`domain::rule_sql`, used by the one-statement first claim)
//! admit exactly the workers the Rust evaluator finds nothing against, for every rule
//! type, over workers who differ in every fact the rules read, on both backends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use common::*;
use serde_json::{json, Value};
use zhijian::domain::eligibility;
use zhijian::domain::ids::{CampaignId, UserId};
use zhijian::domain::phone::Phone;
use zhijian::domain::profile::{Occupation, Role};
use zhijian::domain::rule_sql::RuleSql;
use zhijian::domain::rules::Rule;
use zhijian::domain::users::{self, NewUser};

/// Workers whose facts run through every value the rules tell apart: occupation (none
/// too), region, verified, hardship, the current membership (and when it began, on and
/// around the boundaries the rules name), an ended one, and open or fulfilled wishes.
fn make_workers(app: &TestApp, unions: [&str; 3]) -> Vec<UserId> {
    let [city, luqiao, jiaojiang] = unions;
    let occupations = [
        None,
        Some(Occupation::Courier),
        Some(Occupation::FoodDelivery),
        Some(Occupation::Sanitation),
    ];
    let regions = [None, Some("331004"), Some("330102"), Some("331002")];
    // (union, since UTC, ended): 路桥 from 2025-06-01 00:00 北京时间 exactly.
    let memberships = [
        None,
        Some((luqiao, "2025-05-31 16:00:00", false)),
        Some((jiaojiang, "2026-02-28 16:00:00", false)),
        Some((city, "2024-01-01 00:00:00", true)),
        Some((luqiao, "2025-05-31 15:59:59", false)),
    ];
    let pool = zhijian::db::connect(&app.config.database_url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let mut workers = Vec::new();
    for i in 0..80 {
        let now = zhijian::domain::now();
        let mut user = NewUser::new(
            Phone::parse(&random_phone()).unwrap(),
            "unused".into(),
            "职工".into(),
            Role::Worker,
            now,
        );
        user.occupation = occupations[i % 4];
        user.region_code = regions[(i / 4) % 4].map(str::to_owned);
        user.occupation_verified = (i / 16) % 2 == 1;
        user.hardship_archived = (i / 32) % 2 == 1 || i % 7 == 3;
        users::create(&mut conn, &user).unwrap();
        let id = user.id.as_str();
        if let Some((union, since, ended)) = memberships[(i * 3) % 5] {
            let ended = if ended { "'2025-01-01 00:00:00'" } else { "NULL" };
            app.sql(&format!(
                "INSERT INTO memberships (id, user_id, union_id, member_no, since, started_at, ended_at) \
                 VALUES ('m{i}', '{id}', '{union}', 'no{i}', '{since}', '{since}', {ended})"
            ));
        }
        let wish = |n: &str, category: &str, status: &str| {
            app.sql(&format!(
                "INSERT INTO wishes (id, user_id, category, text, status, created_at) \
                 VALUES ('w{i}{n}', '{id}', '{category}', '冬衣', '{status}', '2026-01-01 00:00:00')"
            ))
        };
        match i % 3 {
            1 => wish("a", "warmth", "open"),
            2 => {
                wish("a", "warmth", "fulfilled");
                wish("b", "food", "open");
            }
            _ => {}
        }
        workers.push(user.id);
    }
    workers
}

/// Every rule type, alone with its telling values, and together.
fn rule_sets(city: &str, luqiao: &str, jiaojiang: &str) -> Vec<Value> {
    vec![
        json!([]),
        json!([{"type": "membership_required"}]),
        json!([{"type": "member_of", "union_id": city}]),
        json!([{"type": "member_of", "union_id": luqiao}]),
        json!([{"type": "member_of", "union_id": jiaojiang}]),
        json!([{"type": "occupation_in", "values": ["courier"]}]),
        json!([{"type": "occupation_in", "values": ["courier", "food_delivery"]}]),
        json!([{"type": "occupation_verified"}]),
        json!([{"type": "hardship_archived"}]),
        json!([{"type": "region_in", "values": ["3310"]}]),
        json!([{"type": "region_in", "values": ["331004", "330102"]}]),
        json!([{"type": "region_in", "values": ["33"]}]),
        json!([{"type": "member_since_before", "date": "2025-06-01"}]),
        json!([{"type": "member_since_before", "date": "2026-03-02"}]),
        json!([{"type": "wished", "category": "warmth"}]),
        json!([{"type": "wished", "category": "food"}]),
        json!([
            {"type": "occupation_in", "values": ["food_delivery", "courier"]},
            {"type": "region_in", "values": ["3310"]},
            {"type": "membership_required"},
            {"type": "occupation_verified"}
        ]),
    ]
}

#[tokio::test]
async fn the_rules_as_sql_admit_exactly_whom_the_evaluator_admits() {
    let app = spawn_app().await;
    let w = app.world().await;
    let workers = make_workers(&app, [&w.city, &w.luqiao, &w.jiaojiang]);
    let mut campaigns = Vec::new();
    for rules in rule_sets(&w.city, &w.luqiao, &w.jiaojiang) {
        let id = app
            .campaign(
                &w.platform.access,
                &w.city,
                10,
                rules.clone(),
                &[&w.luqiao_station],
            )
            .await;
        let parsed: Vec<Rule> = serde_json::from_value(rules.clone()).unwrap();
        campaigns.push((rules, CampaignId::parse(&id).unwrap(), parsed));
    }
    let url = app.config.database_url.clone();
    tokio::task::spawn_blocking(move || {
        let pool = zhijian::db::connect(&url, 1).unwrap();
        let mut conn = pool.get().unwrap();
        let now = zhijian::domain::now();
        for (shown, campaign, rules) in &campaigns {
            let sql = RuleSql::compile(rules);
            let (mut admitted, mut refused) = (0, 0);
            for worker in &workers {
                let (_, assessment) = eligibility::assess(&mut conn, campaign, worker, now)
                    .unwrap()
                    .unwrap();
                let by_rust = assessment.rules.is_empty();
                let by_sql = sql.holds_for(&mut conn, worker).unwrap();
                assert_eq!(
                    by_sql, by_rust,
                    "rules {shown}, worker {worker}: SQL says {by_sql}, the evaluator {:?}",
                    assessment.rules
                );
                if by_rust {
                    admitted += 1;
                } else {
                    refused += 1;
                }
            }
            // Each set tells the workers apart, or the comparison proves little.
            if shown != &json!([]) {
                assert!(
                    admitted > 0 && refused > 0,
                    "rules {shown}: {admitted} admitted, {refused} refused"
                );
            }
        }
        assert!(!RuleSql::compile(&[])
            .holds_for(&mut conn, &UserId::generate())
            .unwrap());
        // Empty lists are refused when rules are written; read anyway, they admit no one.
        let empty = [
            Rule::OccupationIn { values: vec![] },
            Rule::RegionIn { values: vec![] },
        ];
        for rule in empty {
            let sql = RuleSql::compile(std::slice::from_ref(&rule));
            assert!(
                workers.iter().all(|w| !sql.holds_for(&mut conn, w).unwrap()),
                "{rule:?}"
            );
        }
    })
    .await
    .unwrap();
}
