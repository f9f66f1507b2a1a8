//! 送货上门: the counters of a delivery campaign's stations list the vouchers still to
//! hand over (with the holder's address, and a `pii.viewed` entry) and record each
//! hand-over behind the same fence as a redemption (contract v1.1).

use chrono::NaiveDateTime;
use serde_json::json;

use super::redemptions::{fence_refusal, hand_over, RedeemRefusal};
use crate::auth::scope::{CounterScope, ScopeError};
use crate::db::DbConnection;
use crate::domain::audit::{self, Audit};
use crate::domain::campaign_modes::{Fulfilment, HandOver};
use crate::domain::campaigns::{self, CampaignStatus};
use crate::domain::deliveries::{self, ToDeliver};
use crate::domain::ids::{CampaignId, StationId, UnionId, UserId, VoucherId};
use crate::domain::redemptions::{self, Redeem, Redemption};
use crate::domain::voucher_reads;
use crate::domain::vouchers::Voucher;

/// `POST /counter/deliveries`: the voucher handed over at the door, for a station of its
/// campaign that the counter serves.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverCommand {
    pub voucher_id: VoucherId,
    pub station_id: StationId,
}

/// The delivery campaigns a list covers: the one named (which must be a delivery
/// campaign at one of the counter's stations) or every one at its stations; and the union
/// whose office the read is recorded for.
fn campaigns_for(
    conn: &mut DbConnection,
    scope: &CounterScope,
    named: Option<&CampaignId>,
) -> Result<(Vec<CampaignId>, Option<UnionId>), RedeemRefusal> {
    let serving = scope.serving(None)?;
    let Some(id) = named else {
        let home = scope.stations.first().map(|(_, union, _)| union.clone());
        return Ok((deliveries::campaigns_at(conn, &serving)?, home));
    };
    let c = campaigns::find(conn, id)?
        .filter(|c| c.status != CampaignStatus::Draft)
        .ok_or(ScopeError::NotFound)?;
    if c.fulfilment != Fulfilment::Delivery {
        return Err(RedeemRefusal::DeliveryNotOffered);
    }
    if !campaigns::station_ids(conn, id)?
        .iter()
        .any(|s| serving.contains(s))
    {
        return Err(ScopeError::StationNotAllowed.into());
    }
    Ok((vec![c.id], Some(c.union_id)))
}

/// The vouchers still to deliver (issued, unexpired), oldest first after `after`, with
/// the holders' addresses; the read is recorded as `pii.viewed` in the same transaction.
/// Call inside a write transaction.
pub fn to_deliver(
    conn: &mut DbConnection,
    scope: &CounterScope,
    campaign: Option<&CampaignId>,
    after: Option<&VoucherId>,
    limit: i64,
    now: NaiveDateTime,
) -> Result<Vec<ToDeliver>, RedeemRefusal> {
    let (ids, union) = campaigns_for(conn, scope, campaign)?;
    let rows = deliveries::to_deliver(conn, &ids, after, limit, now)?;
    if !rows.is_empty() {
        let (kind, subject) = campaign.map_or(("user", scope.user.as_str()), |c| ("campaign", c.as_str()));
        let mut entry = Audit::new(Some(scope.user.as_str()), "pii.viewed", kind, subject)
            .data(json!({"fields": ["address"], "vouchers": rows.len()}));
        if let Some(union) = &union {
            entry = entry.union(union);
        }
        audit::record(conn, entry, now)?;
    }
    Ok(rows)
}

/// Everything decided before the lock: the station is the counter's and the campaign's,
/// the campaign delivers, and the voucher can be handed over now. The voucher, with its
/// code's keyed hash (what the redemption lock is keyed by). Reads only.
pub fn precheck(
    conn: &mut DbConnection,
    scope: &CounterScope,
    cmd: &DeliverCommand,
    now: NaiveDateTime,
) -> Result<(Voucher, String), RedeemRefusal> {
    if !scope.has_station(&cmd.station_id) {
        return Err(RedeemRefusal::StationNotBound);
    }
    let (voucher, live) = voucher_reads::by_id(conn, &cmd.voucher_id)?.ok_or(RedeemRefusal::UnknownCode)?;
    let c = campaigns::find(conn, &voucher.campaign_id)?.ok_or(RedeemRefusal::UnknownCode)?;
    if c.fulfilment != Fulfilment::Delivery {
        return Err(RedeemRefusal::DeliveryNotOffered);
    }
    if !campaigns::station_ids(conn, &c.id)?.contains(&cmd.station_id) {
        return Err(ScopeError::StationNotAllowed.into());
    }
    if let Some(e) = redemptions::refusal(&voucher, live, now) {
        return Err(fence_refusal(conn, e)?);
    }
    let code_hash = voucher_reads::code_hash(conn, &voucher.id)?;
    Ok((voucher, code_hash))
}

/// The hand-over at the door, behind the redemption fence. Call inside a write
/// transaction.
pub fn deliver(
    conn: &mut DbConnection,
    voucher: &Voucher,
    cmd: &DeliverCommand,
    counter: &UserId,
    now: NaiveDateTime,
) -> Result<Redemption, RedeemRefusal> {
    let r = Redeem {
        voucher,
        station: &cmd.station_id,
        counter,
        terminal: None,
        method: HandOver::Delivery,
    };
    hand_over(conn, r, now)
}
