//! Extractor settings and fallbacks: bounded bodies, and problem+json for every failure
//! (bad JSON, unknown fields, wrong content type, malformed ids, unknown routes).

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::{ApiError, ErrorCode};

/// Largest JSON body accepted; every request body of the API is far smaller.
pub const MAX_JSON_BYTES: usize = 16 * 1024;

pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(ErrorCode::NotFound).with_detail("no such route"))
}

pub async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ErrorCode::MethodNotAllowed.into())
}

/// Body extractor settings: bounded size, problem+json for every failure.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_JSON_BYTES)
        .error_handler(|err, _req: &HttpRequest| {
            let api = match err {
                JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
                    ApiError::new(ErrorCode::PayloadTooLarge)
                        .with_detail(format!("the body may be at most {MAX_JSON_BYTES} bytes"))
                }
                JsonPayloadError::ContentType => ApiError::new(ErrorCode::UnsupportedMediaType)
                    .with_detail("Content-Type must be application/json"),
                JsonPayloadError::Deserialize(e) => ApiError::invalid(e.to_string()),
                other => ApiError::invalid(other.to_string()),
            };
            api.into()
        })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|err: QueryPayloadError, _req: &HttpRequest| ApiError::invalid(err.to_string()).into())
}

/// A malformed id in a path names no object: 404, like an id that does not exist.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|_err: PathError, _req: &HttpRequest| ApiError::new(ErrorCode::NotFound).into())
}
