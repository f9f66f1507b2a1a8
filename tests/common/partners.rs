//! Partner fixtures (issue 11): partner clients made by an admin, OAuth 2.0 client
//! credentials token requests, attestations, and the few reads the partner tests share.
#![allow(dead_code)]

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use super::receiver::Receiver;
use super::TestApp;

/// A partner client as its admin received it: the secret is shown only once.
#[derive(Debug, Clone)]
pub struct Partner {
    pub id: String,
    pub name: String,
    pub client_id: String,
    pub secret: String,
}

pub const ALL_SCOPES: [&str; 5] = [
    "attestations:write",
    "workers:read",
    "vouchers:read",
    "webhooks:manage",
    "union_events:read",
];

/// A space-separated scope string as a sorted list, to compare regardless of order.
pub fn scope_set(scope: &str) -> Vec<String> {
    let mut scopes: Vec<String> = scope.split_whitespace().map(str::to_owned).collect();
    scopes.sort();
    scopes
}

/// The `code`s of a `reasons` list, sorted.
pub fn reason_codes(body: &Value) -> Vec<String> {
    let mut codes: Vec<String> = body["reasons"]
        .as_array()
        .unwrap_or_else(|| panic!("no reasons in {body}"))
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect();
    codes.sort();
    codes
}

impl TestApp {
    /// 美团配送, a partner of `union` that manages webhooks and reads vouchers, with its
    /// token and a live endpoint for `events` at a fresh real receiver:
    /// `(partner, token, receiver, the endpoint as created)`.
    pub async fn webhook_partner(
        &self,
        admin: &str,
        union: &str,
        events: &[&str],
    ) -> (Partner, String, Receiver, Value) {
        let p = self
            .partner(admin, union, "美团配送", &["webhooks:manage", "vouchers:read"])
            .await;
        let token = self.partner_token(&p, None).await;
        let receiver = Receiver::start();
        let endpoint = self
            .created(
                "/api/v1/partner/webhook-endpoints",
                &token,
                json!({"url": receiver.url, "events": events}),
            )
            .await;
        (p, token, receiver, endpoint)
    }

    /// Creates a partner of `union` with `scopes` as `admin`.
    pub async fn partner(&self, admin: &str, union: &str, name: &str, scopes: &[&str]) -> Partner {
        let body = self
            .created(
                "/api/v1/admin/partners",
                admin,
                json!({"name": name, "union_id": union, "scopes": scopes}),
            )
            .await;
        Partner {
            id: body["id"].as_str().unwrap().to_owned(),
            name: body["name"].as_str().unwrap().to_owned(),
            client_id: body["client_id"].as_str().unwrap().to_owned(),
            secret: body["client_secret"].as_str().unwrap().to_owned(),
        }
    }

    /// `POST /oauth/token` with the client authenticated by HTTP Basic.
    pub async fn token_basic(&self, client_id: &str, secret: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url("/api/v1/oauth/token"))
            .basic_auth(client_id, Some(secret))
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// `POST /oauth/token` with whatever form fields are given (credentials included).
    pub async fn token_form(&self, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url("/api/v1/oauth/token"))
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// An access token for `p` (all its scopes, or the `scope` asked for), via Basic.
    pub async fn partner_token(&self, p: &Partner, scope: Option<&str>) -> String {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        let resp = self.token_basic(&p.client_id, &p.secret, &form).await;
        let status = resp.status();
        let body: Value = resp.json().await.expect("json");
        assert_eq!(status, StatusCode::OK, "token for {}: {body}", p.name);
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// `POST /partner/attestations` for `phone`.
    pub async fn attest(&self, token: &str, phone: &str, occupation: &str) -> Response {
        self.post_auth(
            "/api/v1/partner/attestations",
            token,
            &json!({"phone": phone, "occupation": occupation, "employer": "美团外卖", "reference": "MT-RIDER-0001"}),
        )
        .await
    }

    /// `GET /me`, asserted 200.
    pub async fn me(&self, token: &str) -> Value {
        let resp = self.get_auth("/api/v1/me", token).await;
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.expect("json")
    }

    pub async fn delete_auth(&self, path: &str, token: &str) -> Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// A worker's own eligibility answer for `campaign`.
    pub async fn eligibility(&self, campaign: &str, token: &str) -> Value {
        let resp = self
            .get_auth(&format!("/api/v1/campaigns/{campaign}/eligibility"), token)
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.expect("json")
    }
}
