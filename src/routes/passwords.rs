//! Passwords: one's own change, and a worker's reset by a code from the gateway.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::app::passwords::{self, ResetRefusal};
use crate::auth::Principal;
use crate::db;
use crate::domain::invalid::Invalid;
use crate::domain::phone::Phone;
use crate::domain::profile::Password;
use crate::domain::{now, users};
use crate::error::{ApiError, ErrorCode};
use crate::http::json::Json;
use crate::http::throttle;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current_password: String,
    new_password: Password,
}

/// Anyone's own password: the current one checked (under the sign-in budgets, so it
/// cannot be guessed through here), every other session ended.
pub async fn change_own(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    body: Json<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let PasswordChange {
        current_password,
        new_password,
    } = body.into_inner();
    let ip = throttle::auth_budget(&state, &req).await?;
    let user_id = principal.user_id.clone();
    let user = db::run(&state.pool, move |conn| {
        Ok::<_, ApiError>(users::find(conn, &user_id)?)
    })
    .await?
    .ok_or_else(|| ApiError::new(ErrorCode::TokenInvalid))?;
    let attempt = throttle::login_attempt(&state, &user.phone, ip).await?;
    let matched = state
        .hasher
        .verify(Some(user.password_hash.clone()), current_password.clone())
        .await?;
    if !matched {
        return Err(Invalid::new("current_password", "当前密码不正确").into());
    }
    throttle::login_succeeded(&state, attempt).await;
    if new_password.expose() == current_password {
        return Err(Invalid::new("new_password", "新密码不能与当前密码相同").into());
    }
    let hash = state.hasher.hash(new_password.expose().to_owned()).await?;
    let checked = user.password_hash;
    let changed = db::transaction(&state.pool, move |conn| {
        let (user, keep) = (&principal.user_id, &principal.session_id);
        Ok::<_, ApiError>(passwords::change_own(conn, user, keep, &checked, &hash, now())?)
    })
    .await?;
    if !changed {
        return Err(Invalid::new("current_password", "密码刚刚被修改过，请重新输入当前密码").into());
    }
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    phone: Phone,
}

/// Always 202, whether the phone is registered or not (nothing to learn here); a code
/// goes out through the gateway when it is a worker's. Throttled per address and phone.
pub async fn request_reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<ResetRequest>,
) -> Result<HttpResponse, ApiError> {
    throttle::auth_budget(&state, &req).await?;
    let phone = body.into_inner().phone;
    throttle::reset_budget(&state, "send", &phone).await?;
    db::transaction(&state.pool, move |conn| {
        Ok::<_, ApiError>(passwords::request_reset(conn, &phone, now())?)
    })
    .await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({
        "message": "如果该手机号已注册，验证码已发送，10 分钟内有效"
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirmation {
    phone: Phone,
    code: String,
    new_password: Password,
}

/// The code from the gateway and a new password → 204, every session ended. A wrong,
/// expired or retired code → 400 `INVALID_CODE`.
pub async fn confirm_reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<ResetConfirmation>,
) -> Result<HttpResponse, ApiError> {
    throttle::auth_budget(&state, &req).await?;
    let ResetConfirmation {
        phone,
        code,
        new_password,
    } = body.into_inner();
    let code = code.trim().to_owned();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Invalid::new("code", "验证码是 6 位数字").into());
    }
    throttle::reset_budget(&state, "confirm", &phone).await?;
    let hash = state.hasher.hash(new_password.expose().to_owned()).await?;
    let keys = state.voucher_keys.clone();
    // A wrong code must count even though it is refused, so the transaction commits
    // and the refusal comes out afterwards.
    let outcome = db::transaction(&state.pool, move |conn| {
        Ok::<_, ApiError>(passwords::confirm_reset(
            conn,
            &keys,
            &phone,
            &code,
            &hash,
            now(),
        )?)
    })
    .await?;
    match outcome {
        Ok(()) => Ok(HttpResponse::NoContent().finish()),
        Err(ResetRefusal::InvalidCode) => Err(ApiError::new(ErrorCode::InvalidCode)
            .with_detail("验证码错误、已过期或已失效（输错 5 次即失效），请重新获取")),
        Err(ResetRefusal::Database(e)) => Err(e.into()),
    }
}
