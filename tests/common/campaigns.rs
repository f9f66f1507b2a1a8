//! Campaign fixtures: published campaigns and many signed-in workers, quickly.
#![allow(dead_code)]

use chrono::{Duration, Utc};
use diesel::prelude::*;
use serde_json::{json, Value};
use zhijian::auth::jwt::JwtKeys;
use zhijian::auth::sessions;
use zhijian::domain::phone::Phone;
use zhijian::domain::profile::{Occupation, Role};
use zhijian::domain::users::{self, NewUser};

use super::{random_phone, TestApp, Tokens, TEST_JWT_SECRET};

pub fn courier_rules() -> Value {
    json!([{"type": "occupation_in", "values": ["food_delivery", "courier"]}, {"type": "region_in", "values": ["3310"]}])
}

impl TestApp {
    /// The counter `token` redeems `code` at `station` (`POST /counter/redemptions`).
    pub async fn redeem(&self, token: &str, code: &str, station: &str) -> reqwest::Response {
        let body = json!({"code": code, "station_id": station});
        self.post_auth("/api/v1/counter/redemptions", token, &body).await
    }

    /// The counter `token` redeems `guesses` codes that name no voucher at `station`, each
    /// answered 404, then one more: the answer to that one (429 once the counter's budget
    /// is `guesses`).
    pub async fn guess_codes(&self, token: &str, station: &str, guesses: usize) -> reqwest::Response {
        let guess = |i: usize| format!("{i:016}");
        for i in 0..guesses {
            let answer = self.redeem(token, &guess(i), station).await;
            super::assert_problem(answer, 404, "VOUCHER_NOT_FOUND").await;
        }
        self.redeem(token, &guess(guesses), station).await
    }

    /// A draft campaign of `union` with the given stock and rules, redeemable at `stations`.
    pub async fn draft(
        &self,
        admin: &str,
        union: &str,
        stock: i64,
        rules: Value,
        stations: &[&str],
    ) -> Value {
        let now = Utc::now();
        let body = json!({
            "union_id": union,
            "title": "暖心礼包",
            "item_name": "夏季清凉包",
            "total_stock": stock,
            "claim_starts_at": now - Duration::hours(1),
            "claim_ends_at": now + Duration::days(1),
            "redeem_until": now + Duration::days(7),
            "station_ids": stations,
            "rules": rules,
        });
        self.created("/api/v1/admin/campaigns", admin, body).await
    }

    /// A published campaign; returns its id.
    pub async fn campaign(
        &self,
        admin: &str,
        union: &str,
        stock: i64,
        rules: Value,
        stations: &[&str],
    ) -> String {
        let id = self.draft(admin, union, stock, rules, stations).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let resp = self
            .post_auth(
                &format!("/api/v1/admin/campaigns/{id}/publish"),
                admin,
                &json!({}),
            )
            .await;
        assert_eq!(resp.status().as_u16(), 200, "{}", resp.text().await.unwrap());
        id
    }

    /// A published courier campaign of 路桥, redeemable at its first station.
    pub async fn luqiao_campaign(&self, w: &super::world::World, stock: i64) -> String {
        self.campaign(
            &w.luqiao_admin.access,
            &w.luqiao,
            stock,
            courier_rules(),
            &[&w.luqiao_station],
        )
        .await
    }

    pub async fn wallet(&self, token: &str) -> Value {
        self.get_auth("/api/v1/me/vouchers", token)
            .await
            .json()
            .await
            .unwrap()
    }

    pub async fn claim(&self, campaign: &str, token: &str) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/v1/campaigns/{campaign}/claims")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn claim_with_key(&self, campaign: &str, token: &str, key: &str) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/v1/campaigns/{campaign}/claims")))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .send()
            .await
            .unwrap()
    }

    pub async fn stats(&self, campaign: &str, admin: &str) -> Value {
        self.get_auth(&format!("/api/v1/admin/campaigns/{campaign}/stats"), admin)
            .await
            .json()
            .await
            .unwrap()
    }

    /// `n` food-delivery riders of 331004, created straight in the database with one
    /// shared password hash and signed in by minting their sessions, so a burst test
    /// does not spend minutes in argon2. The server checks these tokens as any other.
    pub async fn riders(&self, n: usize) -> Vec<Tokens> {
        let url = self.config.database_url.clone();
        tokio::task::spawn_blocking(move || {
            let pool = zhijian::db::connect(&url, 1).unwrap();
            let mut conn = pool.get().unwrap();
            let jwt = JwtKeys::new(TEST_JWT_SECRET.as_bytes());
            let hash =
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$3zDUK3bZ9pG2MEqCjmy2KA3x6vI4cTGiTSRaQtHLMmY";
            zhijian::db::write_tx(&mut conn, |conn| {
                let mut tokens = Vec::with_capacity(n);
                while tokens.len() < n {
                    let now = zhijian::domain::now();
                    let mut user = NewUser::new(
                        Phone::parse(&random_phone()).unwrap(),
                        hash.into(),
                        "骑手".into(),
                        Role::Worker,
                        now,
                    );
                    user.occupation = Some(Occupation::FoodDelivery);
                    user.region_code = Some("331004".into());
                    // A savepoint, so a phone drawn twice (PostgreSQL aborts the whole
                    // transaction on a unique violation) costs one retry, not the batch.
                    match conn.transaction(|conn| users::create(conn, &user)) {
                        Ok(()) => {}
                        Err(users::CreateUserError::PhoneTaken) => continue,
                        Err(users::CreateUserError::Database(e)) => return Err(e),
                    }
                    let (session, refresh) =
                        sessions::start(conn, &user.id, now, chrono::Duration::days(30))?;
                    let access = jwt.issue(&user.id, Role::Worker, &session).unwrap();
                    tokens.push(Tokens { access, refresh });
                }
                Ok::<_, diesel::result::Error>(tokens)
            })
            .unwrap()
        })
        .await
        .unwrap()
    }

    /// `(one_statement, read_then_statement, transaction)`: the vouchers each claim path
    /// has made so far (`zhijian_claim_paths_total`).
    pub async fn claim_paths(&self) -> (f64, f64, f64) {
        let metrics = self.text("/metrics").await;
        let made = |path: &str| {
            let prefix = format!("zhijian_claim_paths_total{{outcome=\"{path}\"}}");
            metrics
                .lines()
                .find_map(|l| l.strip_prefix(prefix.as_str()))
                .map_or(0.0, |v| v.trim().parse().unwrap())
        };
        (
            made("one_statement"),
            made("read_then_statement"),
            made("transaction"),
        )
    }

    /// Runs SQL against the test database (to move a clock, or to read what is stored).
    pub fn sql(&self, statement: &str) {
        let pool = zhijian::db::connect(&self.config.database_url, 1).unwrap();
        diesel::sql_query(statement)
            .execute(&mut pool.get().unwrap())
            .unwrap();
    }
}
