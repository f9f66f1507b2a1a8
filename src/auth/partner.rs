//! The `PartnerPrincipal` extractor: a partner access token whose partner is still
//! enabled, with the scopes the token carries. Accepted only under `/api/v1/partner/`
//! (the gate sends every other token there away with 403).

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::jwt::TokenError;
use super::principal::{bearer, Authenticator};
use crate::db;
use crate::domain::ids::{PartnerId, UnionId};
use crate::domain::partners::{self, parse_scopes, Scope};
use crate::error::{ApiError, ErrorCode};

#[derive(Debug, Clone)]
pub struct PartnerPrincipal {
    pub partner_id: PartnerId,
    pub union_id: UnionId,
    pub name: String,
    pub scopes: Vec<Scope>,
}

impl PartnerPrincipal {
    /// 403 unless the token carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(ApiError::new(ErrorCode::Forbidden).with_detail(format!("此令牌没有 {scope} 权限")))
        }
    }
}

impl FromRequest for PartnerPrincipal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(p) = req.extensions().get::<PartnerPrincipal>().cloned() {
            return Box::pin(async move { Ok(p) });
        }
        let auth = req.app_data::<web::Data<Authenticator>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let auth = auth.ok_or_else(|| ApiError::internal("authenticator missing"))?;
            let token = token?;
            let claims = auth.jwt.verify_partner(&token).map_err(|e| match e {
                _ if auth.jwt.verify(&token).is_ok() => ApiError::new(ErrorCode::Forbidden)
                    .with_detail("这里只接受合作方令牌（OAuth 2.0 客户端凭证）"),
                TokenError::Expired => ApiError::new(ErrorCode::TokenExpired),
                TokenError::Invalid => ApiError::new(ErrorCode::TokenInvalid),
            })?;
            let id = PartnerId::parse(&claims.pid).ok_or(ErrorCode::TokenInvalid)?;
            let partner = db::run(&auth.pool, move |conn| {
                Ok::<_, ApiError>(partners::find(conn, &id)?)
            })
            .await?;
            let partner = partner.ok_or(ErrorCode::TokenInvalid)?;
            if partner.disabled_at.is_some() {
                return Err(ErrorCode::TokenRevoked.into());
            }
            // The token's scopes, never more than the partner holds now.
            let held = partner.scopes();
            let scopes = parse_scopes(&claims.scope)
                .unwrap_or_default()
                .into_iter()
                .filter(|s| held.contains(s))
                .collect();
            Ok(PartnerPrincipal {
                partner_id: partner.id,
                union_id: partner.union_id,
                name: partner.name,
                scopes,
            })
        })
    }
}
