//! A notification as its worker reads it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::ids::{CampaignId, NotificationId, VoucherId};
use crate::domain::notifications::{Notification, NotificationKind};
use crate::domain::utc;

/// `{id, kind, title, body, created_at, read_at, voucher_id?, campaign_id?}` (contract v1.1).
#[derive(Debug, Serialize)]
pub struct NotificationView {
    pub id: NotificationId,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    pub voucher_id: Option<VoucherId>,
    pub campaign_id: Option<CampaignId>,
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        Self {
            id: n.id,
            kind: n.kind,
            title: n.title,
            body: n.body,
            created_at: utc(n.created_at),
            read_at: n.read_at.map(utc),
            voucher_id: n.voucher_id,
            campaign_id: n.campaign_id,
        }
    }
}
