//! Logging, and the middleware that gives every request its id (see `request_id`).

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::ResponseError;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::error::{ApiError, ErrorCode, PROBLEM_JSON};
use crate::request_id;

/// Sets up `tracing`; `LOG_FORMAT=json` for machine-read logs, `RUST_LOG` for levels.
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // A second init (tests) is harmless.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Gives every request an id (header `X-Request-Id`, error bodies, log lines) and logs
/// one line per request. Only method, route path, status and latency are logged: bodies,
/// query strings and headers may hold phone numbers or tokens.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let id = request_id::generate();
    let started = Instant::now();
    let method = req.method().to_string();
    // The route is recorded once routed, by the role gate that wraps every route; before
    // routing, actix could only find it by trying every route's expression on the raw
    // path. A request no route matched is recorded below.
    let span = tracing::info_span!("request", request_id = %id, %method, route = tracing::field::Empty);
    let result = request_id::scope(id.clone(), async move {
        let response = next.call(req).await?;
        Ok::<_, actix_web::Error>(as_problem(response))
    })
    .instrument(span.clone())
    .await;
    let mut response = result?;
    if response.request().match_pattern().is_none() {
        span.record("route", "<unmatched>");
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(request_id::HEADER), value);
    }
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "served"
        )
    });
    Ok(response)
}

/// Any error actix answered on its own (say a payload error before a handler ran) is
/// re-rendered as problem+json, so clients meet one error format. Runs inside the
/// request-id scope.
fn as_problem<B: MessageBody + 'static>(response: ServiceResponse<B>) -> ServiceResponse<BoxBody> {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if status.as_u16() < 400 || is_problem {
        return response.map_into_boxed_body();
    }
    let (req, _) = response.into_parts();
    let error = ApiError::new(ErrorCode::for_status(status));
    ServiceResponse::new(req, error.error_response()).map_into_boxed_body()
}
