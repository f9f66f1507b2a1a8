//! The route table. `routes!` builds both the actix configuration and `ROUTES`, the list
//! the OpenAPI test compares with `api-spec/openapi.yaml`, so they cannot drift apart.

pub mod accounts;
pub mod applications;
pub mod campaign_reports;
pub mod campaign_views;
pub mod campaigns;
pub mod campaigns_admin;
pub mod counter;
pub mod directory;
pub mod idempotent;
pub mod me;
pub mod membership;
pub mod ops;
pub mod org;
pub mod pagination;
pub mod redemptions_admin;
pub mod wallet;
pub mod workers;

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::{ApiError, ErrorCode};

/// Largest JSON body accepted; every request body of the API is far smaller.
pub const MAX_JSON_BYTES: usize = 16 * 1024;

macro_rules! routes {
    ($($path:literal => { $($method:ident : $handler:path),+ $(,)? }),* $(,)?) => {
        /// Every (method, path) the service answers.
        pub const ROUTES: &[(&str, &str)] = &[$($((stringify!($method), $path),)+)*];

        pub fn configure(cfg: &mut web::ServiceConfig) {
            $(
                cfg.service(
                    web::resource($path)
                        $(.route(web::method(actix_web::http::Method::$method).to($handler)))+
                        .default_service(web::to(method_not_allowed)),
                );
            )*
        }
    };
}

routes! {
    "/healthz" => { GET: ops::healthz },
    "/readyz" => { GET: ops::readyz },
    "/api-docs/openapi.json" => { GET: ops::openapi_json },
    "/api-docs/openapi.yaml" => { GET: ops::openapi_yaml },
    "/api/v1/auth/register" => { POST: accounts::register },
    "/api/v1/auth/login" => { POST: accounts::login },
    "/api/v1/auth/refresh" => { POST: accounts::refresh },
    "/api/v1/auth/logout" => { POST: accounts::logout },
    "/api/v1/me" => { GET: me::show, PATCH: me::update },
    "/api/v1/me/membership-applications" => { GET: membership::mine, POST: membership::apply },
    "/api/v1/me/membership-transfers" => { POST: membership::transfer },
    "/api/v1/me/vouchers" => { GET: wallet::list },
    "/api/v1/me/vouchers/{id}" => { GET: wallet::show },
    "/api/v1/me/vouchers/{id}/cancel" => { POST: wallet::cancel },
    "/api/v1/campaigns" => { GET: campaigns::list },
    "/api/v1/campaigns/{id}" => { GET: campaigns::show },
    "/api/v1/campaigns/{id}/eligibility" => { GET: campaigns::eligibility },
    "/api/v1/campaigns/{id}/claims" => { POST: campaigns::claim },
    "/api/v1/admin/campaigns" => { GET: campaigns_admin::list, POST: campaigns_admin::create },
    "/api/v1/admin/campaigns/{id}" => { PATCH: campaigns_admin::update },
    "/api/v1/admin/campaigns/{id}/publish" => { POST: campaigns_admin::publish },
    "/api/v1/admin/campaigns/{id}/pause" => { POST: campaigns_admin::pause },
    "/api/v1/admin/campaigns/{id}/close" => { POST: campaigns_admin::close },
    "/api/v1/admin/campaigns/{id}/stats" => { GET: campaign_reports::stats },
    "/api/v1/admin/campaigns/{id}/dry-run" => { GET: campaign_reports::dry_run },
    "/api/v1/admin/campaigns/{id}/vouchers" => { GET: campaign_reports::vouchers },
    "/api/v1/unions" => { GET: directory::list_unions },
    "/api/v1/stations" => { GET: directory::list_stations },
    "/api/v1/admin/unions" => { POST: org::create_union },
    "/api/v1/admin/stations" => { POST: org::create_station },
    "/api/v1/admin/staff" => { POST: org::create_staff },
    "/api/v1/admin/workers" => { GET: workers::list },
    "/api/v1/admin/workers/{id}" => { PATCH: workers::update },
    "/api/v1/admin/membership-applications" => { GET: applications::list_applications },
    "/api/v1/admin/membership-applications/{id}/approve" => { POST: applications::approve_application },
    "/api/v1/admin/membership-applications/{id}/reject" => { POST: applications::reject_application },
    "/api/v1/admin/membership-transfers" => { GET: applications::list_transfers },
    "/api/v1/admin/membership-transfers/{id}/approve" => { POST: applications::approve_transfer },
    "/api/v1/admin/membership-transfers/{id}/reject" => { POST: applications::reject_transfer },
    "/api/v1/counter/membership-applications" => { POST: membership::onsite },
    "/api/v1/counter/lookups" => { POST: counter::lookup },
    "/api/v1/counter/redemptions" => { POST: counter::redeem },
    "/api/v1/admin/campaigns/{id}/redemptions" => { GET: redemptions_admin::list },
    "/api/v1/admin/redemptions/{id}/reverse" => { POST: redemptions_admin::reverse },
    "/api/v1/admin/vouchers/{id}/revoke" => { POST: redemptions_admin::revoke },
}

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
