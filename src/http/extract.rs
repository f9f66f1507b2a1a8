//! Fallbacks: problem+json for malformed path ids, unknown routes and methods. Bodies
//! and queries are read by `http::json`.

use actix_web::error::PathError;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::{ApiError, ErrorCode};

pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(ErrorCode::NotFound).with_detail("没有这个地址"))
}

/// 405 with `Allow` listing the route's methods (`methods`: names separated by spaces).
pub async fn method_not_allowed(methods: &'static str) -> HttpResponse {
    let allow = methods.split_whitespace().collect::<Vec<_>>().join(", ");
    let mut response = actix_web::ResponseError::error_response(&ApiError::new(ErrorCode::MethodNotAllowed));
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allow) {
        response
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, value);
    }
    response
}

/// A malformed id in a path names no object: 404, like an id that does not exist.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|_err: PathError, _req: &HttpRequest| ApiError::new(ErrorCode::NotFound).into())
}
