//! The route table. `routes!` builds both the actix configuration and `ROUTES`, the list
//! the OpenAPI test compares with `api-spec/openapi.yaml`, so they cannot drift apart.

pub mod accounts;
pub mod applications;
mod as_worker;
mod at_once;
pub mod audit;
pub mod campaign_reports;
pub mod campaigns;
pub mod campaigns_admin;
pub mod claims;
pub mod counter;
pub mod deliveries;
pub mod directory;
pub mod exports;
pub mod me;
pub mod membership;
pub mod notifications;
pub mod oauth;
pub mod ops;
pub mod org;
pub mod pages;
pub mod partner_api;
pub mod partners;
pub mod passwords;
mod redeem_lock;
pub mod redemptions_admin;
pub mod roster;
pub mod staff;
pub mod wallet;
pub mod webhook_endpoints;
pub mod wishes;
pub mod workers;

use actix_web::middleware::from_fn;
use actix_web::web;

use crate::auth::gate::role_gate;

use crate::http::extract::method_not_allowed;

macro_rules! routes {
    ($($path:literal => { $($method:ident : $handler:path),+ $(,)? }),* $(,)?) => {
        /// Every (method, path) the service answers.
        pub const ROUTES: &[(&str, &str)] = &[$($((stringify!($method), $path),)+)*];

        /// Each resource carries the role gate, so authorization is decided on the route
        /// that matched (whatever spelling of the path reached it).
        pub fn configure(cfg: &mut web::ServiceConfig) {
            $(
                cfg.service(
                    web::resource($path)
                        $(.route(web::method(actix_web::http::Method::$method).to($handler)))+
                        .default_service(web::to(|| method_not_allowed(concat!($(stringify!($method), " "),+))))
                        .wrap(from_fn(role_gate)),
                );
            )*
        }
    };
}

routes! {
    // Launch morning's routes first: actix tries the routes in this order, running a
    // regular expression for each one with a `{…}` segment, and no two patterns here
    // match the same path, so the order changes only the time it takes.
    "/api/v1/campaigns/{id}/claims" => { POST: claims::claim },
    "/api/v1/campaigns/{id}/eligibility" => { GET: campaigns::eligibility },
    "/api/v1/counter/redemptions" => { GET: counter::today, POST: counter::redeem },
    "/api/v1/counter/lookups" => { POST: counter::lookup },
    "/api/v1/campaigns/{id}" => { GET: campaigns::show },
    "/api/v1/campaigns" => { GET: campaigns::list },
    "/api/v1/me/vouchers" => { GET: wallet::list },
    "/api/v1/me/vouchers/{id}" => { GET: wallet::show },
    // The rest.
    "/" => { GET: pages::home },
    "/app" => { GET: pages::to_page },
    "/counter" => { GET: pages::to_page },
    "/admin" => { GET: pages::to_page },
    "/app/" => { GET: pages::app },
    "/counter/" => { GET: pages::counter },
    "/admin/" => { GET: pages::admin },
    "/assets/{name}" => { GET: pages::asset },
    "/healthz" => { GET: ops::healthz },
    "/readyz" => { GET: ops::readyz },
    "/metrics" => { GET: ops::metrics },
    "/api-docs/openapi.json" => { GET: ops::openapi_json },
    "/api-docs/openapi.yaml" => { GET: ops::openapi_yaml },
    "/api/v1/auth/register" => { POST: accounts::register },
    "/api/v1/auth/login" => { POST: accounts::login },
    "/api/v1/auth/refresh" => { POST: accounts::refresh },
    "/api/v1/auth/logout" => { POST: accounts::logout },
    "/api/v1/auth/password-reset" => { POST: passwords::request_reset },
    "/api/v1/auth/password-reset/confirm" => { POST: passwords::confirm_reset },
    "/api/v1/me/password" => { POST: passwords::change_own },
    "/api/v1/me" => { GET: me::show, PATCH: me::update },
    "/api/v1/me/membership-applications" => { GET: membership::mine, POST: membership::apply },
    "/api/v1/me/membership-transfers" => { POST: membership::transfer },
    "/api/v1/me/join-codes" => { POST: me::join_code },
    "/api/v1/me/partner-grants" => { GET: partners::grants, POST: partners::grant },
    "/api/v1/me/partner-grants/{id}" => { DELETE: partners::revoke_grant },
    "/api/v1/partners" => { GET: partners::directory },
    "/api/v1/admin/partners" => { GET: partners::list, POST: partners::create },
    "/api/v1/admin/partners/{id}/disable" => { POST: partners::disable },
    "/api/v1/admin/partners/{id}/secret" => { POST: partners::rotate_secret },
    "/api/v1/admin/attestations" => { GET: partners::attestations },
    "/api/v1/oauth/token" => { POST: oauth::token },
    "/api/v1/partner/attestations" => { POST: partner_api::attest },
    "/api/v1/partner/workers" => { GET: partner_api::workers },
    "/api/v1/partner/workers/{id}/eligibility" => { GET: partner_api::eligibility },
    "/api/v1/partner/workers/{id}/vouchers" => { GET: partner_api::vouchers },
    "/api/v1/partner/webhook-endpoints" => { GET: webhook_endpoints::list, POST: webhook_endpoints::create },
    "/api/v1/partner/webhook-endpoints/{id}" => { DELETE: webhook_endpoints::delete },
    "/api/v1/partner/webhook-endpoints/{id}/deliveries" => { GET: webhook_endpoints::deliveries },
    "/api/v1/partner/webhook-endpoints/{id}/events/{event_id}/redeliver" => { POST: webhook_endpoints::redeliver },
    "/api/v1/me/notifications" => { GET: notifications::list },
    "/api/v1/me/notifications/{id}/read" => { POST: notifications::read },
    "/api/v1/me/vouchers/{id}/qr.svg" => { GET: wallet::qr_svg },
    "/api/v1/me/vouchers/{id}/cancel" => { POST: wallet::cancel },
    "/api/v1/me/vouchers/{id}/rating" => { POST: wallet::rate },
    "/api/v1/me/wishes" => { GET: wishes::mine, POST: wishes::create },
    "/api/v1/admin/campaigns" => { GET: campaigns_admin::list, POST: campaigns_admin::create },
    "/api/v1/admin/campaigns/{id}" => { PATCH: campaigns_admin::update, DELETE: campaigns_admin::delete },
    "/api/v1/admin/campaigns/{id}/reminders" => { POST: notifications::remind },
    "/api/v1/admin/campaigns/{id}/publish" => { POST: campaigns_admin::publish },
    "/api/v1/admin/campaigns/{id}/pause" => { POST: campaigns_admin::pause },
    "/api/v1/admin/campaigns/{id}/close" => { POST: campaigns_admin::close },
    "/api/v1/admin/campaigns/{id}/allocate" => { POST: campaigns_admin::allocate },
    "/api/v1/admin/campaigns/{id}/stats" => { GET: campaign_reports::stats },
    "/api/v1/admin/campaigns/{id}/dry-run" => { GET: campaign_reports::dry_run },
    "/api/v1/admin/campaigns/{id}/vouchers" => { GET: campaign_reports::vouchers },
    "/api/v1/admin/campaigns/{id}/vouchers.csv" => { GET: exports::vouchers },
    "/api/v1/admin/campaigns/{id}/redemptions.csv" => { GET: exports::redemptions },
    "/api/v1/admin/unions/{id}/members.csv" => { GET: exports::members },
    "/api/v1/unions" => { GET: directory::list_unions },
    "/api/v1/stations" => { GET: directory::list_stations },
    "/api/v1/admin/unions" => { POST: org::create_union },
    "/api/v1/admin/stations" => { POST: org::create_station },
    "/api/v1/admin/unions/{id}/roster-imports" => { POST: roster::import },
    "/api/v1/admin/staff" => { GET: staff::list, POST: org::create_staff },
    "/api/v1/admin/staff/{id}" => { PATCH: staff::update },
    "/api/v1/admin/staff/{id}/password-reset" => { POST: staff::reset_password },
    "/api/v1/admin/audit-events" => { GET: audit::list },
    "/api/v1/admin/workers" => { GET: workers::list },
    "/api/v1/admin/workers/{id}" => { GET: workers::show, PATCH: workers::update },
    "/api/v1/admin/memberships/{id}/end" => { POST: workers::end_membership },
    "/api/v1/admin/membership-applications" => { GET: applications::list_applications },
    "/api/v1/admin/membership-applications/{id}/approve" => { POST: applications::approve_application },
    "/api/v1/admin/membership-applications/{id}/reject" => { POST: applications::reject_application },
    "/api/v1/admin/membership-transfers" => { GET: applications::list_transfers },
    "/api/v1/admin/membership-transfers/{id}/approve" => { POST: applications::approve_transfer },
    "/api/v1/admin/membership-transfers/{id}/reject" => { POST: applications::reject_transfer },
    "/api/v1/counter/membership-applications" => { POST: membership::onsite },
    "/api/v1/counter/deliveries" => { GET: deliveries::list, POST: deliveries::deliver },
    "/api/v1/admin/wishes/summary" => { GET: wishes::summary },
    "/api/v1/admin/campaigns/{id}/redemptions" => { GET: redemptions_admin::list },
    "/api/v1/admin/redemptions/{id}/reverse" => { POST: redemptions_admin::reverse },
    "/api/v1/admin/vouchers/{id}/revoke" => { POST: redemptions_admin::revoke },
}
