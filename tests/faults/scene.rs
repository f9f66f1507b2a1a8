//! The world a fault case bursts into: 路桥's unions, stations and counter; a campaign
//! the burst claims from (fewer units than claimants, two vouchers a worker allowed, so a
//! doubled claim would show); vouchers of a second campaign claimed beforehand for the
//! counter to redeem during the burst.

use futures_util::future::join_all;
use serde_json::{json, Value};
use zhijian::auth::jwt::JwtKeys;
use zhijian::config::Config;

use crate::common::{jobs, TestApp, TEST_JWT_SECRET};
use crate::load::Op;

pub struct Scene {
    pub app: TestApp,
    pub size: Size,
    /// The campaign claimed from during the burst.
    pub campaign: String,
    pub claims: Vec<Op>,
    pub redemptions: Vec<Op>,
}

/// How big the burst is.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub claimants: usize,
    pub stock: i64,
    pub codes: usize,
}

impl Default for Size {
    fn default() -> Self {
        Self {
            claimants: 240,
            stock: 200,
            codes: 120,
        }
    }
}

impl Scene {
    /// Builds the world through the service at `base` (a running instance over `config`).
    pub async fn build(base: String, config: &Config, size: Size) -> Self {
        let app = TestApp::attached(base, config.clone());
        let world = app.world().await;
        let admin = world.luqiao_admin.access.clone();
        let campaign = app
            .publish_body(
                &admin,
                jobs::campaign_body(&world, size.stock, json!({"per_worker_limit": 2})),
            )
            .await;
        let jwt = JwtKeys::new(TEST_JWT_SECRET.as_bytes());
        let claims = app
            .riders(size.claimants)
            .await
            .into_iter()
            .map(|t| Op::Claim {
                campaign: campaign.clone(),
                who: jwt.verify(&t.access).unwrap().sub,
                token: t.access,
            })
            .collect();

        let handed = app
            .publish_body(
                &admin,
                jobs::campaign_body(&world, i64::try_from(size.codes).unwrap(), json!({})),
            )
            .await;
        let holders = app.riders(size.codes).await;
        let mut claimed = Vec::with_capacity(size.codes);
        for chunk in holders.chunks(8) {
            claimed.extend(join_all(chunk.iter().map(|t| app.claim(&handed, &t.access))).await);
        }
        let mut redemptions = Vec::with_capacity(size.codes);
        for response in claimed {
            assert_eq!(response.status().as_u16(), 201);
            let voucher: Value = response.json().await.unwrap();
            redemptions.push(Op::Redeem {
                code: voucher["code"].as_str().unwrap().to_owned(),
                voucher: voucher["id"].as_str().unwrap().to_owned(),
                station: world.luqiao_station.clone(),
                token: world.luqiao_counter.access.clone(),
            });
        }
        Self {
            app,
            size,
            campaign,
            claims,
            redemptions,
        }
    }

    /// Claims and redemptions interleaved, as they arrive on distribution day.
    pub fn mixed(&self) -> Vec<Op> {
        let mut ops = Vec::with_capacity(self.claims.len() + self.redemptions.len());
        let mut redemptions = self.redemptions.iter();
        for (i, claim) in self.claims.iter().enumerate() {
            ops.push(claim.clone());
            if i % 2 == 1 {
                ops.extend(redemptions.next().cloned());
            }
        }
        ops.extend(redemptions.cloned());
        ops
    }
}
