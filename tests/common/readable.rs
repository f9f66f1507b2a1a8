//! Assertions that a problem is one a person can read (contract v1.1, "Validation errors").
#![allow(dead_code)]

use reqwest::Response;
use serde_json::Value;

/// What parsers and serde say, which no person should have to read.
const MACHINE_TEXT: [&str; 5] = ["line ", "column", "expected", "invalid type", "premature"];

pub fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// Title, detail and every message: Chinese, and free of machine text.
pub fn assert_readable(problem: &Value, context: &str) {
    let mut texts: Vec<&str> = vec![problem["title"].as_str().unwrap()];
    texts.extend(problem["detail"].as_str());
    for error in problem["errors"].as_array().into_iter().flatten() {
        texts.push(error["message"].as_str().unwrap());
    }
    for text in texts {
        for machine in MACHINE_TEXT {
            assert!(
                !text.to_lowercase().contains(machine),
                "{context}: {machine:?} in {problem}"
            );
        }
        assert!(has_chinese(text), "{context}: {text:?} is not Chinese: {problem}");
    }
}

/// A 400 `INVALID_REQUEST` problem whose first error, and whose detail, name `field`.
pub async fn assert_invalid(resp: Response, field: &str, context: &str) -> Value {
    let status = resp.status().as_u16();
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    let problem: Value = resp.json().await.unwrap();
    assert_eq!(status, 400, "{context}: {problem}");
    assert_eq!(content_type, "application/problem+json", "{context}");
    assert_eq!(problem["code"], "INVALID_REQUEST", "{context}: {problem}");
    assert_eq!(problem["errors"][0]["field"], field, "{context}: {problem}");
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(field),
        "{context}: detail should name {field}: {problem}"
    );
    assert_readable(&problem, context);
    problem
}
