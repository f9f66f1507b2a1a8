//! The one error type of the API, rendered as RFC 9457 `application/problem+json`.
//!
//! Handlers return `ApiError`; its `ErrorCode` fixes status, stable code and the Chinese
//! title. Internal causes are logged here, with the request id, and never returned.

use std::fmt;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{json, Map, Value};

use crate::domain::invalid::Invalid;
use crate::request_id;

mod labels;
mod refusals;

macro_rules! error_codes {
    ($($variant:ident => ($status:ident, $code:literal, $title:literal),)*) => {
        /// Every stable error code the API answers with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode { $($variant,)* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            pub fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => StatusCode::$status,)* }
            }
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }
            /// A short message fit to show a worker.
            pub fn title(self) -> &'static str {
                match self { $(ErrorCode::$variant => $title,)* }
            }
        }
    };
}

error_codes! {
    InvalidRequest => (BAD_REQUEST, "INVALID_REQUEST", "请求格式不正确"),
    Unauthenticated => (UNAUTHORIZED, "UNAUTHENTICATED", "请先登录"),
    TokenExpired => (UNAUTHORIZED, "TOKEN_EXPIRED", "登录已过期，请刷新"),
    TokenInvalid => (UNAUTHORIZED, "TOKEN_INVALID", "登录凭证无效，请重新登录"),
    TokenRevoked => (UNAUTHORIZED, "TOKEN_REVOKED", "登录已失效，请重新登录"),
    InvalidCredentials => (UNAUTHORIZED, "INVALID_CREDENTIALS", "手机号或密码错误"),
    InvalidClient => (UNAUTHORIZED, "INVALID_CLIENT", "客户端凭证无效"),
    RefreshTokenReused => (UNAUTHORIZED, "REFRESH_TOKEN_REUSED", "登录凭证已被使用，请重新登录"),
    Forbidden => (FORBIDDEN, "FORBIDDEN", "无权执行此操作"),
    PasswordChangeRequired => (FORBIDDEN, "PASSWORD_CHANGE_REQUIRED", "请先修改密码"),
    AccountDisabled => (FORBIDDEN, "ACCOUNT_DISABLED", "账号已停用，请联系所属工会管理员"),
    InvalidCode => (BAD_REQUEST, "INVALID_CODE", "验证码错误或已过期"),
    MembershipEnded => (CONFLICT, "MEMBERSHIP_ENDED", "该会籍已结束"),
    NotFound => (NOT_FOUND, "NOT_FOUND", "未找到"),
    MethodNotAllowed => (METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", "不支持该请求方法"),
    PhoneTaken => (CONFLICT, "PHONE_TAKEN", "该手机号已注册"),
    AlreadyMember => (CONFLICT, "ALREADY_MEMBER", "您已是工会会员"),
    ApplicationPending => (CONFLICT, "APPLICATION_PENDING", "您已有待审核的申请"),
    ApplicationNotPending => (CONFLICT, "APPLICATION_NOT_PENDING", "该申请已处理"),
    NotAMember => (CONFLICT, "NOT_A_MEMBER", "您还不是工会会员"),
    NotEligible => (FORBIDDEN, "NOT_ELIGIBLE", "不符合领取条件"),
    AlreadyClaimed => (CONFLICT, "ALREADY_CLAIMED", "您已领取过"),
    SoldOut => (CONFLICT, "SOLD_OUT", "礼包已领完"),
    CampaignNotOpen => (CONFLICT, "CAMPAIGN_NOT_OPEN", "活动尚未开始"),
    CampaignEnded => (CONFLICT, "CAMPAIGN_ENDED", "活动已结束"),
    CampaignStateConflict => (CONFLICT, "CAMPAIGN_STATE_CONFLICT", "活动当前状态不允许此操作"),
    VoucherNotActive => (CONFLICT, "VOUCHER_NOT_ACTIVE", "该券已不可用"),
    VoucherNotFound => (NOT_FOUND, "VOUCHER_NOT_FOUND", "未找到该券"),
    AlreadyRedeemed => (CONFLICT, "ALREADY_REDEEMED", "该券已核销"),
    VoucherExpired => (CONFLICT, "VOUCHER_EXPIRED", "该券已过期"),
    VoucherCancelled => (CONFLICT, "VOUCHER_CANCELLED", "该券已退回"),
    VoucherRevoked => (CONFLICT, "VOUCHER_REVOKED", "该券已作废"),
    StationNotAllowed => (FORBIDDEN, "STATION_NOT_ALLOWED", "该券不能在本驿站核销"),
    RedemptionInProgress => (LOCKED, "REDEMPTION_IN_PROGRESS", "该券正在其他柜台核销，请稍后刷新"),
    ReversalWindowPassed => (CONFLICT, "REVERSAL_WINDOW_PASSED", "已超过24小时，不能冲正"),
    AlreadyReversed => (CONFLICT, "ALREADY_REVERSED", "该核销已冲正"),
    StockInsufficient => (CONFLICT, "STOCK_INSUFFICIENT", "库存不足以发放给所有符合条件的职工"),
    DeliveryNotOffered => (CONFLICT, "DELIVERY_NOT_OFFERED", "本活动需到驿站领取，不提供送货上门"),
    VoucherNotRedeemed => (CONFLICT, "VOUCHER_NOT_REDEEMED", "礼包领到后才能评价"),
    AlreadyRated => (CONFLICT, "ALREADY_RATED", "您已评价过"),
    WishAlreadyOpen => (CONFLICT, "WISH_ALREADY_OPEN", "这一类的心愿您已提交，实现后可再提"),
    IdempotencyKeyReused => (UNPROCESSABLE_ENTITY, "IDEMPOTENCY_KEY_REUSED", "同一请求编号用于了不同的请求"),
    IdempotencyInFlight => (CONFLICT, "IDEMPOTENCY_IN_FLIGHT", "请求正在处理中，请稍后查看结果"),
    PayloadTooLarge => (PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", "请求内容过大"),
    RequestTimeout => (REQUEST_TIMEOUT, "REQUEST_TIMEOUT", "请求超时，请重试"),
    HeadersTooLarge => (REQUEST_HEADER_FIELDS_TOO_LARGE, "HEADERS_TOO_LARGE", "请求头过大"),
    UnsupportedMediaType => (UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE", "请求内容须为 JSON"),
    RateLimited => (TOO_MANY_REQUESTS, "RATE_LIMITED", "操作过于频繁，请稍后再试"),
    Unavailable => (SERVICE_UNAVAILABLE, "UNAVAILABLE", "服务繁忙，请稍后重试"),
    Internal => (INTERNAL_SERVER_ERROR, "INTERNAL", "服务器内部错误"),
}

/// An API error: a stable code plus optional detail, extension members and Retry-After.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    detail: Option<String>,
    extensions: Map<String, Value>,
    retry_after_secs: Option<u64>,
    /// A more precise title and extra headers, rarely set (boxed to keep errors small).
    extras: Option<Box<Extras>>,
    /// Logged, never sent.
    cause: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            detail: None,
            extensions: Map::new(),
            retry_after_secs: None,
            extras: None,
            cause: None,
        }
    }

    /// 400 `INVALID_REQUEST` for one or more refused fields: `errors: [{field, message}]`,
    /// a `detail` naming each field, and a title a person can act on where the field has
    /// a Chinese label (contract v1.1, "Validation errors").
    pub fn invalid(errors: Vec<Invalid>) -> Self {
        let detail = errors
            .iter()
            .map(|e| {
                if e.field.is_empty() {
                    e.message.clone()
                } else {
                    format!("{}：{}", e.field, e.message)
                }
            })
            .collect::<Vec<_>>()
            .join("；");
        // "总库存应在 1 到 10000000 之间", without doubling a label the message already has.
        let title = errors.first().and_then(|e| {
            labels::label(&e.field).map(|l| {
                if e.message.starts_with(l) {
                    e.message.clone()
                } else {
                    format!("{l}{}", e.message)
                }
            })
        });
        let list: Vec<Value> = errors
            .iter()
            .map(|e| json!({"field": e.field, "message": e.message}))
            .collect();
        let e = Self::new(ErrorCode::InvalidRequest)
            .with_detail(detail)
            .with_extension("errors", list);
        match title {
            Some(t) => e.with_title(t),
            None => e,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// An extra response header (e.g. `WWW-Authenticate` on `invalid_client`).
    pub fn with_header(mut self, name: header::HeaderName, value: &str) -> Self {
        self.extras
            .get_or_insert_with(Box::default)
            .headers
            .push((name, value.to_owned()));
        self
    }

    /// A title more precise than the code's own, still short and fit to show a worker.
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.extras.get_or_insert_with(Box::default).title = Some(title.into());
        self
    }

    pub fn with_extension(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extensions.insert(key.to_owned(), value.into());
        self
    }

    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs.max(1));
        self
    }

    /// A fault of ours: logged with its cause, answered as a bare 500.
    pub fn internal(cause: impl fmt::Display) -> Self {
        let mut e = Self::new(ErrorCode::Internal);
        e.cause = Some(cause.to_string());
        e
    }

    /// A dependency is down or saturated; the client may retry.
    pub fn unavailable(cause: impl fmt::Display) -> Self {
        let mut e = Self::new(ErrorCode::Unavailable).retry_after(1);
        e.cause = Some(cause.to_string());
        e
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The problem+json document of this error, as sent.
    pub fn problem_body(&self) -> Value {
        let mut body = json!({
            "type": "about:blank",
            "title": self.extras.as_ref().and_then(|x| x.title.as_deref()).unwrap_or(self.code.title()),
            "status": self.code.status().as_u16(),
            "code": self.code.as_str(),
            "request_id": request_id::current(),
        });
        if let Value::Object(map) = &mut body {
            if let Some(detail) = &self.detail {
                map.insert("detail".into(), Value::String(detail.clone()));
            }
            for (k, v) in &self.extensions {
                map.insert(k.clone(), v.clone());
            }
        }
        body
    }

    /// The problem+json response for `body` with this error's status and headers.
    pub fn response_with(&self, body: String) -> HttpResponse {
        let mut response = HttpResponse::build(self.code.status());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if let Some(secs) = self.retry_after_secs {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        for (name, value) in self.extras.iter().flat_map(|x| x.headers.iter()) {
            response.insert_header((name.clone(), value.clone()));
        }
        response.body(body)
    }

    fn log_cause(&self) {
        if let Some(cause) = &self.cause {
            if self.code == ErrorCode::Internal {
                tracing::error!(code = self.code.as_str(), %cause, "request failed");
            } else {
                tracing::warn!(code = self.code.as_str(), %cause, "dependency unavailable");
            }
        }
    }
}

pub const PROBLEM_JSON: &str = "application/problem+json";

/// What few errors carry beyond code, detail and extensions.
#[derive(Debug, Default)]
struct Extras {
    title: Option<String>,
    headers: Vec<(header::HeaderName, String)>,
}

impl ErrorCode {
    /// The code for a status actix produced on its own (a safety net: see telemetry).
    pub fn for_status(status: StatusCode) -> Self {
        match status.as_u16() {
            401 => Self::Unauthenticated,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            405 => Self::MethodNotAllowed,
            408 => Self::RequestTimeout,
            413 => Self::PayloadTooLarge,
            415 => Self::UnsupportedMediaType,
            431 => Self::HeadersTooLarge,
            429 => Self::RateLimited,
            503 => Self::Unavailable,
            s if s >= 500 => Self::Internal,
            _ => Self::InvalidRequest,
        }
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        Self::invalid(vec![e])
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        Self::new(code)
    }
}

impl From<crate::db::RunError> for ApiError {
    fn from(e: crate::db::RunError) -> Self {
        match e {
            crate::db::RunError::Pool(cause) => Self::unavailable(format_args!("database pool: {cause}")),
            crate::db::RunError::Busy => Self::unavailable("database pool: no connection came free in time"),
            crate::db::RunError::Blocking(cause) => Self::internal(cause),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    /// A database that cannot do the work now (connection lost, restarting, disk full) is a
    /// 503 the client may retry; anything else is our fault.
    fn from(e: diesel::result::Error) -> Self {
        if crate::db::is_unavailable(&e) {
            Self::unavailable(format_args!("database: {e}"))
        } else {
            Self::internal(format_args!("database: {e}"))
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code.as_str())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.log_cause();
        self.response_with(self.problem_body().to_string())
    }
}
