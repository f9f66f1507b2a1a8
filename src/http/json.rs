//! `Json<T>` and `Query<T>`: the body and query extractors every route uses. Unlike
//! actix's own, a refusal names the field by its path (`rules[2].values`) with a Chinese
//! message (contract v1.1, "Validation errors"), and every body has one size bound,
//! claims included.

use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::{ready, LocalBoxFuture, Ready};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use super::serde_text::{data_error, syntax_error, value_syntax_error};
use crate::domain::invalid::Invalid;
use crate::error::{ApiError, ErrorCode};

/// Largest body accepted on any route; every request body of the API is far smaller.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

fn too_large() -> ApiError {
    ApiError::new(ErrorCode::PayloadTooLarge).with_detail(format!("请求内容不能超过 {MAX_BODY_BYTES} 字节"))
}

/// Reads the whole body, refusing it as soon as it passes [`MAX_BODY_BYTES`].
pub async fn read_body(req: &HttpRequest, mut payload: Payload) -> Result<Vec<u8>, ApiError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| ApiError::from(Invalid::new("body", "请求内容未能完整接收，请重试")))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Deserializes a JSON body — always an object — into `T`, naming the failing field.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Invalid> {
    // serde's derived structs also read arrays (`["138…", "pw"]` as a login); the API
    // speaks objects only.
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        None => return Err(syntax_error(true)),
        Some(_) => return Err(Invalid::new("body", "请求内容应为 JSON 对象（{…}）")),
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let at_root = path == "." || path == "?";
        match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof if !at_root => {
                value_syntax_error(&path, &inner.to_string())
            }
            serde_json::error::Category::Syntax => syntax_error(false),
            serde_json::error::Category::Eof => syntax_error(true),
            _ => data_error(&path, &inner.to_string()),
        }
    })?;
    de.end().map_err(|_| syntax_error(false))?;
    Ok(value)
}

fn is_json(req: &HttpRequest) -> bool {
    let Some(ct) = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A JSON body of type `T` (`Content-Type: application/json`, at most 16 KiB).
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            if !is_json(&req) {
                return Err(ApiError::new(ErrorCode::UnsupportedMediaType)
                    .with_detail("请求头 Content-Type 须为 application/json"));
            }
            let body = read_body(&req, payload).await?;
            Ok(Json(parse(&body)?))
        })
    }
}

/// The query string as `T`; `T` should deny unknown fields, so a misspelt filter is a
/// 400 rather than silently ignored.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Parses a query string into `T`, naming the failing parameter.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, Invalid> {
    // A percent-escape that does not decode to UTF-8 would otherwise turn into U+FFFD.
    if percent_encoding::percent_decode_str(&query.replace('+', " "))
        .decode_utf8()
        .is_err()
    {
        return Err(Invalid::new("query", "查询参数的编码不正确（应为 UTF-8）"));
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded_pairs(query));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        if message.contains("digit") || message.contains("float") {
            Invalid::new(path, "应为数字")
        } else {
            data_error(&path, &message)
        }
    })
}

fn form_urlencoded_pairs(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(req.query_string()).map(Query).map_err(ApiError::from))
    }
}
