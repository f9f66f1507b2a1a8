//! Vouchers in the wallet, in the admin's lists, at the counter; redemptions.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

use crate::app::lookups::Lookup;
use crate::domain::ids::{CampaignId, RedemptionId, StationId, UserId, VoucherId};
use crate::domain::phone::{mask_name, Phone};
use crate::domain::redemptions::{Redeemed, Redemption};
use crate::domain::utc;
use crate::domain::voucher_code::VoucherKeys;
use crate::domain::vouchers::{Voucher, VoucherState};

/// A voucher as its holder sees it (wallet, claim answer).
#[derive(Debug, Serialize)]
pub struct VoucherView {
    pub id: VoucherId,
    pub campaign_id: CampaignId,
    pub campaign_title: String,
    pub item_name: String,
    pub status: VoucherState,
    /// `XXXX-XXXX-XXXX-XXXX`, derived on the fly: the database holds only its hash.
    pub code: String,
    pub qr_payload: String,
    pub claim_no: i32,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub redeemed_at: Option<DateTime<Utc>>,
    pub redeemed_station_id: Option<StationId>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Wallet list and detail, once the worker rated the hand-over: their score (1–5).
    /// Absent otherwise, so a fresh claim's answer and the voucher's detail agree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<i32>,
}

/// Fills the wallet's `rating` of a page of views (one read).
pub fn with_handouts(
    conn: &mut crate::db::DbConnection,
    views: &mut [VoucherView],
) -> diesel::QueryResult<()> {
    use crate::db::schema::voucher_ratings;
    use diesel::prelude::*;
    let ids: Vec<&VoucherId> = views.iter().map(|v| &v.id).collect();
    let scores: std::collections::HashMap<VoucherId, i32> = voucher_ratings::table
        .filter(voucher_ratings::voucher_id.eq_any(&ids))
        .select((voucher_ratings::voucher_id, voucher_ratings::score))
        .load(conn)?
        .into_iter()
        .collect();
    for v in views {
        v.rating = scores.get(&v.id).copied();
    }
    Ok(())
}

/// `entry` is (voucher, campaign title, item name); `redeemed` its live redemption.
pub fn wallet_entry(
    (v, title, item): &(Voucher, String, String),
    redeemed: Option<&Redeemed>,
    keys: &VoucherKeys,
    at: NaiveDateTime,
) -> VoucherView {
    let code = keys.code_for(&v.id);
    VoucherView {
        id: v.id.clone(),
        campaign_id: v.campaign_id.clone(),
        campaign_title: title.clone(),
        item_name: item.clone(),
        status: v.state_at(at),
        code: code.display(),
        qr_payload: code.qr_payload(),
        claim_no: v.claim_no,
        issued_at: utc(v.issued_at),
        expires_at: utc(v.expires_at),
        redeemed_at: redeemed.map(|r| utc(r.at)),
        redeemed_station_id: redeemed.map(|r| r.station.clone()),
        cancelled_at: v.cancelled_at.map(utc),
        rating: None,
    }
}

/// A campaign's voucher in the admin's list, holder masked.
#[derive(Debug, Serialize)]
pub struct HeldVoucher {
    pub voucher_id: VoucherId,
    pub status: VoucherState,
    pub holder_name_masked: String,
    pub holder_phone_masked: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub redeemed_at: Option<DateTime<Utc>>,
    pub redeemed_station_id: Option<StationId>,
}

/// A voucher of the admin's list, its state as of `at`.
pub fn held(
    v: Voucher,
    name: &str,
    phone: &Phone,
    redeemed: Option<&Redeemed>,
    at: NaiveDateTime,
) -> HeldVoucher {
    HeldVoucher {
        status: v.state_at(at),
        voucher_id: v.id,
        holder_name_masked: mask_name(name),
        holder_phone_masked: phone.masked(),
        issued_at: utc(v.issued_at),
        expires_at: utc(v.expires_at),
        redeemed_at: redeemed.map(|r| utc(r.at)),
        redeemed_station_id: redeemed.map(|r| r.station.clone()),
    }
}

/// What a counter's lookup shows: holder masked, and whether it can be redeemed here.
#[derive(Debug, Serialize)]
pub struct LookupView {
    pub voucher_id: VoucherId,
    pub status: VoucherState,
    pub campaign_title: String,
    pub item_name: String,
    pub holder_name_masked: String,
    pub holder_phone_masked: String,
    /// The holder's member number, to compare with a union card (not personal data the
    /// counter lacks: it is printed on the card the worker shows).
    pub holder_member_no: Option<String>,
    /// Where the campaign is redeemable, so a counter can send a worker to the right one.
    pub station_names: Vec<String>,
    pub expires_at: DateTime<Utc>,
    pub redeemable_here: bool,
    pub redeemed_at: Option<DateTime<Utc>>,
    pub redeemed_station_id: Option<StationId>,
}

impl From<Lookup> for LookupView {
    fn from(l: Lookup) -> Self {
        let f = l.found;
        Self {
            voucher_id: f.voucher.id,
            status: l.state,
            campaign_title: f.campaign_title,
            item_name: f.item_name,
            holder_name_masked: mask_name(&f.holder_name),
            holder_phone_masked: f.holder_phone.masked(),
            holder_member_no: f.holder_member_no,
            station_names: f.campaign_stations.into_iter().map(|(_, name)| name).collect(),
            expires_at: utc(f.voucher.expires_at),
            redeemable_here: l.redeemable_here,
            redeemed_at: f.redeemed.as_ref().map(|r| utc(r.at)),
            redeemed_station_id: f.redeemed.map(|r| r.station),
        }
    }
}

/// A redemption (核销) record, with its reversal (冲正) if any.
#[derive(Debug, Serialize)]
pub struct RedemptionView {
    pub id: RedemptionId,
    pub voucher_id: VoucherId,
    pub station_id: StationId,
    pub redeemed_at: DateTime<Utc>,
    pub redeemed_by: UserId,
    pub terminal_id: Option<String>,
    pub reversed_at: Option<DateTime<Utc>>,
    pub reversal_reason: Option<String>,
    /// `counter` (at a station) or `delivery` (at the door).
    pub method: crate::domain::campaign_modes::HandOver,
}

impl From<Redemption> for RedemptionView {
    fn from(r: Redemption) -> Self {
        Self {
            id: r.id,
            voucher_id: r.voucher_id,
            station_id: r.station_id,
            redeemed_at: utc(r.redeemed_at),
            redeemed_by: r.counter_id,
            terminal_id: r.terminal_id,
            reversed_at: r.reversed_at.map(utc),
            reversal_reason: r.reversal_reason,
            method: r.method,
        }
    }
}
