//! Requests that speak for a client address: the test client is 127.0.0.1, and trusting
//! it as a proxy lets a test name any address in `X-Forwarded-For`.

use reqwest::Response;
use serde_json::{json, Value};

use super::{assert_problem, TestApp};

/// Trusts 127.0.0.1 as a reverse proxy (`TRUSTED_PROXIES`).
pub fn behind_a_proxy(c: &mut zhijian::config::Config) {
    c.trusted_proxies = zhijian::config::parse_trusted_proxies("127.0.0.1").expect("proxies");
}

impl TestApp {
    /// `POST path` with `body`, as the client at `address`.
    pub async fn post_from(&self, address: &str, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .header("X-Forwarded-For", address)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// A sign-in from `address`.
    pub async fn login_from(&self, address: &str, phone: &str, password: &str) -> Response {
        let body = json!({"phone": phone, "password": password});
        self.post_from(address, "/api/v1/auth/login", &body).await
    }

    /// A refresh of `refresh_token` from `address`.
    pub async fn refresh_from(&self, address: &str, refresh_token: &str) -> Response {
        let body = json!({"refresh_token": refresh_token});
        self.post_from(address, "/api/v1/auth/refresh", &body).await
    }
}

/// 429 `RATE_LIMITED` with a `Retry-After` of 1 to `window` seconds.
pub async fn assert_rate_limited(resp: Response, window: u64) {
    let retry_after: u64 = resp.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=window).contains(&retry_after), "Retry-After: {retry_after}");
    assert_problem(resp, 429, "RATE_LIMITED").await;
}
