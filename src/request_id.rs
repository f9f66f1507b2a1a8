//! The request id that ties a response, its error body and its log lines together.
//! Its own module so that `error` (which puts it in problem bodies) and `telemetry`
//! (which assigns it) need not import each other.

use std::future::Future;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Header the id is answered in (`X-Request-Id`).
pub const HEADER: &str = "x-request-id";

/// A new id: a UUIDv7, so ids sort by arrival.
pub fn generate() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Runs `fut` with `id` as the current request id.
pub async fn scope<F: Future>(id: String, fut: F) -> F::Output {
    REQUEST_ID.scope(id, fut).await
}

/// The id of the request being served on this task, if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}
