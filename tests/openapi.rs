//! `api-spec/openapi.yaml` and the routes the service serves must not drift apart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use std::collections::BTreeSet;

use serde_json::Value;
use zhijian::error::ErrorCode;
use zhijian::routes::{ops::OPENAPI_YAML, ROUTES};

fn spec() -> Value {
    serde_yaml::from_str(OPENAPI_YAML).expect("openapi.yaml parses")
}

#[test]
fn the_document_lists_exactly_the_served_routes() {
    let spec = spec();
    assert_eq!(spec["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            assert!(op["responses"].is_object(), "{method} {path} has responses");
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let served: BTreeSet<_> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served but not in api-spec/openapi.yaml: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "in api-spec/openapi.yaml but not served: {unserved:?}"
    );
}

#[test]
fn the_problem_schema_lists_every_error_code() {
    let spec = spec();
    let listed: BTreeSet<&str> = spec["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
        .as_array()
        .expect("code enum")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let known: BTreeSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(listed, known);
}

#[tokio::test]
async fn the_document_is_served_as_json_and_yaml() {
    let app = common::spawn_app().await;
    let json: Value = serde_json::from_str(&app.text("/api-docs/openapi.json").await).unwrap();
    assert_eq!(json, spec());
    assert_eq!(app.text("/api-docs/openapi.yaml").await, OPENAPI_YAML);
}
