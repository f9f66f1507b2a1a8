//! The campaigns open for claims that this instance has read lately, each ready for a
//! one-statement first claim (`claim_statement::first`).
//!
//! Nothing here is trusted: the statement holds only while the campaign's `updated_at`
//! is the one remembered (every edit and status change sets it) and checks the status,
//! window and due batches itself, so a stale entry costs one declined statement, after
//! which the claim's own read brings the entry up to date. Every instance keeps its own.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::domain::campaigns::{Campaign, CampaignMode, CampaignStatus};
use crate::domain::claim_statement::FirstClaim;
use crate::domain::ids::CampaignId;

/// Campaigns remembered at most; with that many the memory is cleared (a national
/// campaign season has hundreds open at once).
pub const CAPACITY: usize = 10_000;

/// The memory of one instance.
#[derive(Debug)]
pub struct OpenCampaigns {
    /// On PostgreSQL only: SQLite has no data-modifying CTE, so its instances remember
    /// nothing and never try the statement (a keyed claim would take the single writer's
    /// lock only to decline).
    enabled: bool,
    by_id: RwLock<HashMap<CampaignId, Arc<FirstClaim>>>,
}

impl OpenCampaigns {
    /// An empty memory; `enabled` on PostgreSQL.
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            by_id: RwLock::default(),
        }
    }

    /// The campaign as last read, if it was open for claims then.
    pub fn get(&self, id: &CampaignId) -> Option<Arc<FirstClaim>> {
        self.by_id.read().ok()?.get(id).cloned()
    }

    /// Forgets the campaign: a claim found it sold out or closed, so a first statement
    /// would only decline until something changes (a claim's successful read, or an
    /// eligibility page, notes it again).
    pub fn forget(&self, id: &CampaignId) {
        if let Ok(mut map) = self.by_id.write() {
            map.remove(id);
        }
    }

    /// Remembers `campaign` as just read when it is open for claims (published, workers
    /// claim); forgets it otherwise. A campaign whose rules cannot be read is forgotten:
    /// its claims are refused on the path that reads them.
    pub fn note(&self, campaign: &Campaign) {
        if !self.enabled {
            return;
        }
        let open = campaign.status == CampaignStatus::Published && campaign.mode == CampaignMode::Claim;
        let current = self.get(&campaign.id);
        if open && current.is_some_and(|c| c.campaign.updated_at == campaign.updated_at) {
            return;
        }
        let first = open.then(|| FirstClaim::new(campaign.clone()).ok()).flatten();
        let Ok(mut map) = self.by_id.write() else {
            return;
        };
        match first {
            Some(first) => {
                if map.len() >= CAPACITY {
                    map.clear();
                }
                map.insert(campaign.id.clone(), Arc::new(first));
            }
            None => {
                map.remove(&campaign.id);
            }
        }
    }
}
