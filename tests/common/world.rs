//! A small union world built through the API, as an admin would.
#![allow(dead_code)]

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{random_phone, TestApp, Tokens, PASSWORD};

pub struct World {
    pub platform: Tokens,
    pub city: String,
    pub luqiao: String,
    pub jiaojiang: String,
    pub luqiao_station: String,
    pub luqiao_station_2: String,
    pub jiaojiang_station: String,
    pub luqiao_admin: Tokens,
    pub jiaojiang_admin: Tokens,
    pub luqiao_counter: Tokens,
    pub jiaojiang_counter: Tokens,
}

impl TestApp {
    pub async fn platform_admin(&self) -> Tokens {
        let phone = random_phone();
        let pool = zhijian::db::connect(&self.config.database_url, 2).expect("pool");
        zhijian::seed::create_platform_admin(
            pool,
            zhijian::domain::phone::Phone::parse(&phone).unwrap(),
            &zhijian::domain::profile::Password::try_from(PASSWORD.to_string()).unwrap(),
            zhijian::domain::profile::PersonName::parse("平台管理员").unwrap(),
        )
        .await
        .expect("admin created");
        self.login_ok(&phone).await
    }

    pub async fn created(&self, path: &str, token: &str, body: Value) -> Value {
        let resp = self.post_auth(path, token, &body).await;
        let status = resp.status();
        let body: Value = resp.json().await.expect("json");
        assert_eq!(status, StatusCode::CREATED, "POST {path}: {body}");
        body
    }

    pub async fn union(&self, token: &str, name: &str, parent: Option<&str>, region: &str) -> String {
        let body = json!({"name": name, "parent_id": parent, "region_code": region});
        self.created("/api/v1/admin/unions", token, body).await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn station(&self, token: &str, union: &str, name: &str, lat: f64, lng: f64) -> String {
        let body = json!({"union_id": union, "name": name, "lat": lat, "lng": lng, "open_24h": true});
        self.created("/api/v1/admin/stations", token, body).await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Creates a staff account and signs it in.
    pub async fn staff(&self, token: &str, role: &str, union: &str, stations: &[&str]) -> Tokens {
        let phone = random_phone();
        let body = json!({"phone": phone, "password": PASSWORD, "name": "工作人员", "role": role, "union_id": union, "station_ids": stations});
        self.created("/api/v1/admin/staff", token, body).await;
        self.login_ok(&phone).await
    }

    pub async fn world(&self) -> World {
        let platform = self.platform_admin().await;
        let city = self.union(&platform.access, "台州市总工会", None, "331000").await;
        let luqiao = self
            .union(&platform.access, "路桥区总工会", Some(&city), "331004")
            .await;
        let jiaojiang = self
            .union(&platform.access, "椒江区总工会", Some(&city), "331002")
            .await;
        let luqiao_admin = self.staff(&platform.access, "union_admin", &luqiao, &[]).await;
        let jiaojiang_admin = self.staff(&platform.access, "union_admin", &jiaojiang, &[]).await;
        let luqiao_station = self
            .station(&luqiao_admin.access, &luqiao, "路桥驿站", 28.58, 121.37)
            .await;
        let luqiao_station_2 = self
            .station(&luqiao_admin.access, &luqiao, "金清驿站", 28.52, 121.50)
            .await;
        let jiaojiang_station = self
            .station(&jiaojiang_admin.access, &jiaojiang, "椒江驿站", 28.66, 121.44)
            .await;
        let luqiao_counter = self
            .staff(&luqiao_admin.access, "counter", &luqiao, &[&luqiao_station])
            .await;
        let jiaojiang_counter = self
            .staff(
                &jiaojiang_admin.access,
                "counter",
                &jiaojiang,
                &[&jiaojiang_station],
            )
            .await;
        World {
            platform,
            city,
            luqiao,
            jiaojiang,
            luqiao_station,
            luqiao_station_2,
            jiaojiang_station,
            luqiao_admin,
            jiaojiang_admin,
            luqiao_counter,
            jiaojiang_counter,
        }
    }

    /// A worker who applied to `union` and was approved by `admin`.
    pub async fn member(&self, union: &str, admin: &Tokens) -> (String, Tokens, String) {
        let (phone, tokens) = self.worker().await;
        let app = self
            .created(
                "/api/v1/me/membership-applications",
                &tokens.access,
                json!({"union_id": union}),
            )
            .await;
        let id = app["id"].as_str().unwrap();
        let resp = self
            .post_auth(
                &format!("/api/v1/admin/membership-applications/{id}/approve"),
                &admin.access,
                &json!({}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        let body: Value = resp.json().await.unwrap();
        (
            phone,
            tokens,
            body["applicant"]["id"].as_str().unwrap().to_owned(),
        )
    }
}
