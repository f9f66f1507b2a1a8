//! The pages people use (contract v1.1, "Pages and pictures"): plain HTML, CSS and
//! JavaScript modules from `web/`, built into the binary, served same origin as the API
//! they call (no CORS, no build step, no node at build or run time). `WEB_DIR` serves
//! them from disk instead while someone works on them.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpResponse};

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// A file of `web/`: its name under `/assets/` (or the page it is), type and contents.
struct File {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

macro_rules! files {
    ($($path:literal => $ct:literal),* $(,)?) => {
        const FILES: &[File] = &[$(File {
            path: $path,
            content_type: $ct,
            body: include_str!(concat!("../../web/", $path)),
        }),*];
    };
}

files! {
    "index.html" => "text/html; charset=utf-8",
    "app/index.html" => "text/html; charset=utf-8",
    "counter/index.html" => "text/html; charset=utf-8",
    "admin/index.html" => "text/html; charset=utf-8",
    "assets/style.css" => "text/css; charset=utf-8",
    "assets/api.js" => "text/javascript; charset=utf-8",
    "assets/app.js" => "text/javascript; charset=utf-8",
    "assets/counter.js" => "text/javascript; charset=utf-8",
    "assets/admin.js" => "text/javascript; charset=utf-8",
    "assets/admin-campaigns.js" => "text/javascript; charset=utf-8",
    "assets/app-handouts.js" => "text/javascript; charset=utf-8",
    "assets/counter-deliveries.js" => "text/javascript; charset=utf-8",
    "assets/admin-handouts.js" => "text/javascript; charset=utf-8",
    "assets/app.css" => "text/css; charset=utf-8",
    "assets/counter.css" => "text/css; charset=utf-8",
    "assets/admin.css" => "text/css; charset=utf-8",
}

/// Scripts and styles only from this origin; QR pictures arrive as `blob:` URLs (fetched
/// with the bearer token); the camera stays on this page.
const CSP: &str = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; \
                   script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
                   form-action 'self'";

fn serve(state: &AppState, path: &str) -> Result<HttpResponse, ApiError> {
    let file = FILES
        .iter()
        .find(|f| f.path == path)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    let body = match &state.web_dir {
        Some(dir) => std::fs::read_to_string(dir.join(file.path)).map_err(ApiError::internal)?,
        None => file.body.to_owned(),
    };
    let mut resp = HttpResponse::Ok()
        .content_type(file.content_type)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(body);
    if file.content_type.starts_with("text/html") {
        resp.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }
    Ok(resp)
}

/// `/`: what this is, and the three pages.
pub async fn home(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    serve(&state, "index.html")
}

/// `/app/`: the worker's phone page.
pub async fn app(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    serve(&state, "app/index.html")
}

/// `/counter/`: the counter console.
pub async fn counter(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    serve(&state, "counter/index.html")
}

/// `/admin/`: the admin console.
pub async fn admin(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    serve(&state, "admin/index.html")
}

/// `/app`, `/counter`, `/admin` as people type them: to the page (308, same method).
pub async fn to_page(req: actix_web::HttpRequest) -> HttpResponse {
    let page = format!("{}/", req.path().trim_end_matches('/'));
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, page))
        .finish()
}

/// `/assets/{name}`: the pages' scripts and style.
pub async fn asset(state: web::Data<AppState>, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    serve(&state, &format!("assets/{}", name.into_inner()))
}
