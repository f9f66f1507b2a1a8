//! Function-level authorization for whole areas of the API, checked before any handler
//! or body extractor runs: a worker's token gets 403 on every admin and counter route,
//! whatever it sends. The gate wraps each resource and reads the pattern that matched
//! (`/api/v1/me/vouchers/{id}`), never the raw path, so `/api/v1/%6De/vouchers` and
//! `//api/v1/me/vouchers` are judged as the route they reach (contract v1.1).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::HttpMessage;

use super::partner::PartnerPrincipal;
use super::Principal;
use crate::domain::profile::Role;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// The roles an area of the API is for, by route pattern; `None` where the handler
/// decides alone.
pub fn required_roles(pattern: &str) -> Option<&'static [Role]> {
    let path = pattern;
    if path == super::principal::PASSWORD_CHANGE_ROUTE {
        // Anyone signed in changes their own password.
        None
    } else if path.starts_with("/api/v1/admin/") {
        Some(super::scope::ADMIN_ROLES)
    } else if path.starts_with("/api/v1/counter/") {
        Some(&[Role::Counter])
    } else if path.starts_with("/api/v1/me/") {
        Some(&[Role::Worker])
    } else {
        None
    }
}

pub async fn role_gate<B: MessageBody>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    // Every route is registered with its pattern; no pattern would mean no route, and
    // nothing is served without one.
    let Some(pattern) = req.match_pattern() else {
        return Ok(req
            .error_response(ApiError::new(ErrorCode::NotFound))
            .map_into_right_body());
    };
    // The request's log span learns its route here, before the handler logs anything.
    tracing::Span::current().record("route", pattern.as_str());
    // A method the route does not have is a 405 for everyone; no token is needed to learn it.
    let method = req.method().as_str();
    let served = crate::routes::ROUTES
        .iter()
        .any(|(m, p)| *p == pattern && *m == method);
    if served && pattern.starts_with("/api/v1/partner/") {
        return partner_gate(req, next, pattern).await;
    }
    let Some(roles) = required_roles(&pattern).filter(|_| served) else {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    };
    match req.extract::<Principal>().await {
        Ok(principal) if roles.contains(&principal.role) => {
            // The handler's own `Principal` extractor reuses this one.
            req.extensions_mut().insert(principal);
            next.call(req).await.map(ServiceResponse::map_into_left_body)
        }
        Ok(_) => Ok(req
            .error_response(ApiError::new(ErrorCode::Forbidden))
            .map_into_right_body()),
        Err(e) => Ok(req.error_response(e).map_into_right_body()),
    }
}

/// The partner area: a partner token of an enabled partner (user tokens are 403 here),
/// within its per-client budget, and every call written to the partner audit trail.
async fn partner_gate<B: MessageBody>(
    mut req: ServiceRequest,
    next: Next<B>,
    pattern: String,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let partner = match req.extract::<PartnerPrincipal>().await {
        Ok(p) => p,
        Err(e) => return Ok(req.error_response(e).map_into_right_body()),
    };
    let state = req.app_data::<actix_web::web::Data<AppState>>().cloned();
    let Some(state) = state else {
        return Ok(req
            .error_response(ApiError::internal("state missing"))
            .map_into_right_body());
    };
    if let Err(e) = crate::http::throttle::partner_budget(&state, &partner.partner_id).await {
        return Ok(req.error_response(e).map_into_right_body());
    }
    let method = req.method().to_string();
    let id = partner.partner_id.clone();
    req.extensions_mut().insert(partner);
    let res = next.call(req).await?;
    let status = i32::from(res.status().as_u16());
    let logged = crate::db::run(&state.pool, move |conn| {
        Ok::<_, ApiError>(crate::domain::partner_calls::record(
            conn,
            &id,
            &method,
            &pattern,
            status,
            crate::domain::now(),
        )?)
    })
    .await;
    if let Err(e) = logged {
        tracing::warn!(code = e.code().as_str(), "partner call not recorded");
    }
    Ok(res.map_into_left_body())
}
