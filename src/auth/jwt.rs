//! Short-lived access tokens: HS256 pinned, with issuer, audience and session id.

use chrono::{Duration, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::ids::{SessionId, UserId};
use crate::domain::profile::Role;

pub const ISSUER: &str = "zhijian";
pub const AUDIENCE: &str = "zhijian-api";
pub const ACCESS_TOKEN_TTL_SECS: i64 = 15 * 60;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    /// The session (refresh-token family) this token belongs to.
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    Expired,
    Invalid,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    partner_validation: Validation,
}

/// Partner access tokens: the JWT profile for OAuth 2.0 access tokens (RFC 9068: `typ`
/// `at+jwt`, `client_id`, `scope`, `jti`), with an audience of their own so a partner
/// token is never a user token and the other way round.
pub const PARTNER_AUDIENCE: &str = "zhijian-partner";
pub const PARTNER_TOKEN_TTL_SECS: i64 = 10 * 60;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartnerClaims {
    pub sub: String,
    pub client_id: String,
    /// The partner's id.
    pub pid: String,
    /// Space-separated scopes granted to this token (RFC 6749 §3.3).
    pub scope: String,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        // Only HS256 is accepted, whatever a token's header claims (`none` included).
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let mut partner_validation = validation.clone();
        partner_validation.set_audience(&[PARTNER_AUDIENCE]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            partner_validation,
        }
    }

    /// A partner access token for `scope` (already narrowed to what the partner holds).
    pub fn issue_partner(
        &self,
        partner: &str,
        client_id: &str,
        scope: &str,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = Utc::now();
        let claims = PartnerClaims {
            sub: client_id.to_owned(),
            client_id: client_id.to_owned(),
            pid: partner.to_owned(),
            scope: scope.to_owned(),
            jti: uuid::Uuid::now_v7().to_string(),
            iat: now.timestamp(),
            exp: (now + Duration::seconds(PARTNER_TOKEN_TTL_SECS)).timestamp(),
            iss: ISSUER.to_owned(),
            aud: PARTNER_AUDIENCE.to_owned(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some("at+jwt".to_owned());
        encode(&header, &claims, &self.encoding)
    }

    pub fn verify_partner(&self, token: &str) -> Result<PartnerClaims, TokenError> {
        decode::<PartnerClaims>(token, &self.decoding, &self.partner_validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }

    pub fn issue(
        &self,
        user: &UserId,
        role: Role,
        session: &SessionId,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = Utc::now();
        let claims = Claims {
            sub: user.to_string(),
            role: role.as_str().to_owned(),
            sid: session.to_string(),
            iat: now.timestamp(),
            exp: (now + Duration::seconds(ACCESS_TOKEN_TTL_SECS)).timestamp(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// The signature is checked before expiry, so a tampered expired token is `Invalid`.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }
}
