//! Every answered request counted by route pattern, method and status with its time, and
//! the outcomes of claims and hand-overs by stable code (`crate::metrics`). The pattern,
//! never the path: ids stay out of the labels, and a scan of random paths adds one label
//! value (`unmatched`), not one per path.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::error::ApiError;
use crate::metrics::{HandOverOutcome, Outcome, RequestLabels, RouteLabels};
use crate::state::AppState;

pub async fn record<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<AppState>>().map(|s| s.metrics.clone());
    // Made-up methods (actix accepts any token) would each add label values: one for all.
    let method = match req.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m.to_owned(),
        _ => "other".to_owned(),
    };
    let res = next.call(req).await?;
    let Some(m) = metrics else { return Ok(res) };
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status().as_u16();
    let took = started.elapsed().as_secs_f64();
    let labels = RouteLabels {
        method: method.clone(),
        route: route.clone(),
    };
    m.latency.get_or_create(&labels).observe(took);
    let labels = RequestLabels {
        method: method.clone(),
        route: route.clone(),
        status,
    };
    m.requests.get_or_create(&labels).inc();
    if method != "POST" {
        return Ok(res);
    }
    // A refusal carries its code; a stored answer replayed for a retried key does not.
    let outcome = match res.response().error().and_then(|e| e.as_error::<ApiError>()) {
        Some(e) => e.code().as_str().to_owned(),
        None if res.status().is_success() => "created".to_owned(),
        None => format!("http_{status}"),
    };
    match route.as_str() {
        "/api/v1/campaigns/{id}/claims" => {
            m.claims.get_or_create(&Outcome { outcome }).inc();
        }
        "/api/v1/counter/redemptions" | "/api/v1/counter/deliveries" => {
            let method = if route.ends_with("deliveries") {
                "delivery"
            } else {
                "counter"
            };
            let labels = HandOverOutcome {
                method: method.to_owned(),
                outcome,
            };
            m.redemptions.get_or_create(&labels).inc();
        }
        _ => {}
    }
    Ok(res)
}
