//! `POST /api/v1/oauth/token`: OAuth 2.0 client credentials (RFC 6749 §4.4). The client
//! authenticates with HTTP Basic (§2.3.1; parsed by actix-web-httpauth) or with
//! `client_id`/`client_secret` form fields; errors carry RFC 6749's `error` member (§5.2)
//! inside problem+json. Tokens are JWT access tokens (RFC 9068).

use actix_web::http::header::{self, Header as _};
use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_httpauth::headers::authorization::{Authorization, Basic};
use serde::Deserialize;
use serde_json::json;

use crate::auth::jwt::PARTNER_TOKEN_TTL_SECS;
use crate::db;
use crate::domain::partners::{self, join_scopes, parse_scopes};
use crate::error::{ApiError, ErrorCode};
use crate::http::json::read_body;
use crate::http::throttle;
use crate::state::AppState;

/// The form fields of a token request (unknown ones are ignored, as §3.2 requires).
#[derive(Debug, Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// An RFC 6749 §5.2 error: `error` member, problem code and Chinese detail.
fn oauth_error(code: ErrorCode, error: &str, detail: &str) -> ApiError {
    ApiError::new(code)
        .with_detail(detail)
        .with_extension("error", error)
}

pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    throttle::auth_budget(&state, &req).await?;
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(oauth_error(
            ErrorCode::InvalidRequest,
            "invalid_request",
            "请求须为 application/x-www-form-urlencoded 表单",
        ));
    }
    let body = read_body(&req, payload.into_inner()).await?;
    let form: TokenForm = serde_urlencoded::from_bytes(&body)
        .map_err(|_| oauth_error(ErrorCode::InvalidRequest, "invalid_request", "表单无法解析"))?;
    if form.grant_type.as_deref() != Some("client_credentials") {
        return Err(oauth_error(
            ErrorCode::InvalidRequest,
            "unsupported_grant_type",
            "只支持 grant_type=client_credentials",
        ));
    }
    let basic = Authorization::<Basic>::parse(&req).ok();
    let (client_id, secret) = match (&basic, &form.client_id, &form.client_secret) {
        (Some(b), None, None) => (
            decode(b.as_ref().user_id()),
            b.as_ref().password().map(decode).unwrap_or_default(),
        ),
        (None, Some(id), Some(secret)) => (id.clone(), secret.clone()),
        _ => {
            return Err(oauth_error(
                ErrorCode::InvalidRequest,
                "invalid_request",
                "请用 HTTP Basic 或表单中的 client_id 与 client_secret 之一提供客户端凭证",
            ))
        }
    };
    throttle::client_budget(&state, &client_id).await?;
    let partner = db::run(&state.pool, {
        let (id, secret) = (client_id.clone(), secret.clone());
        move |conn| Ok::<_, ApiError>(partners::authenticate(conn, &id, &secret)?)
    })
    .await?;
    let Some(partner) = partner else {
        let mut e = oauth_error(
            ErrorCode::InvalidClient,
            "invalid_client",
            "客户端凭证无效或合作方已停用",
        );
        if basic.is_some() {
            e = e.with_header(header::WWW_AUTHENTICATE, "Basic realm=\"zhijian\"");
        }
        return Err(e);
    };
    let held = partner.scopes();
    let granted = match form.scope.as_deref() {
        None => held.clone(),
        Some(raw) => match parse_scopes(raw) {
            Some(asked) if asked.iter().all(|s| held.contains(s)) && !asked.is_empty() => asked,
            _ => {
                return Err(oauth_error(
                    ErrorCode::InvalidRequest,
                    "invalid_scope",
                    "申请的权限超出该合作方被授予的范围",
                ))
            }
        },
    };
    let scope = join_scopes(&granted);
    let access_token = state
        .jwt
        .issue_partner(partner.id.as_str(), &partner.client_id, &scope)
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(json!({
        "access_token": access_token, "token_type": "Bearer", "expires_in": PARTNER_TOKEN_TTL_SECS, "scope": scope,
    })))
}

/// Basic credentials are form-urlencoded before base64 (RFC 6749 §2.3.1).
fn decode(raw: &str) -> String {
    form_urlencoded::parse(format!("v={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
