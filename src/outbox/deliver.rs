//! Sending outbox messages over HTTP, signed as Standard Webhooks (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature`), with growing delays between attempts.

use std::time::Duration;

use crate::outbox::Message;

/// Where and how one target's messages go.
#[derive(Clone)]
pub struct Endpoint {
    pub url: String,
    signer: std::sync::Arc<standardwebhooks::Webhook>,
}

impl Endpoint {
    /// `secret` is `whsec_` + base64 (Standard Webhooks); `Err` names what is wrong.
    pub fn new(url: &str, secret: &str) -> Result<Self, String> {
        if !secret.starts_with("whsec_") {
            return Err("the secret must be whsec_ followed by base64".to_owned());
        }
        let signer =
            standardwebhooks::Webhook::new(secret).map_err(|e| format!("the secret is not valid: {e}"))?;
        Ok(Self {
            url: url.to_owned(),
            signer: std::sync::Arc::new(signer),
        })
    }
}

/// The delay before attempt `attempts + 1`: `base`, then ×3 each time, at most 6 hours.
pub fn backoff(base: Duration, attempts: i32) -> Duration {
    let factor = 3_u32.saturating_pow(u32::try_from(attempts).unwrap_or(0).min(20));
    base.saturating_mul(factor).min(Duration::from_secs(6 * 3600))
}

/// A failed attempt: the answer's status if there was one, and a short cause.
#[derive(Debug)]
pub struct Failure {
    pub status: Option<u16>,
    pub error: String,
}

impl From<String> for Failure {
    fn from(error: String) -> Self {
        Self { status: None, error }
    }
}

/// One attempt: `Ok(status)` on a 2xx, a `Failure` otherwise.
pub async fn send(client: &reqwest::Client, endpoint: &Endpoint, message: &Message) -> Result<u16, Failure> {
    let id = message.id.as_str();
    let timestamp = chrono::Utc::now().timestamp();
    let signature = endpoint
        .signer
        .sign(id, timestamp, message.payload.as_bytes())
        .map_err(|e| Failure::from(format!("cannot sign: {e}")))?;
    let answer = client
        .post(&endpoint.url)
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(message.payload.clone())
        .send()
        .await
        .map_err(|e| Failure::from(format!("not delivered: {}", e.without_url())))?;
    let status = answer.status().as_u16();
    if answer.status().is_success() {
        Ok(status)
    } else {
        Err(Failure {
            status: Some(status),
            error: format!("answered {status}"),
        })
    }
}
