//! The worker-facing words of voucher notifications (contract v1.1, "Notifications"):
//! Chinese, with civil times. Each is written by the transition it announces, in its
//! transaction (`domain::notifications::notify`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{campaigns, vouchers};
use crate::db::DbConnection;
use crate::domain::civil;
use crate::domain::ids::{CampaignId, UserId, VoucherId};
use crate::domain::notifications::{self, NewNotification, NotificationKind};

/// What a notice says about a voucher: its holder, campaign and item.
struct About {
    user: UserId,
    campaign: CampaignId,
    title: String,
    item: String,
    expires_at: NaiveDateTime,
    claim_ends_at: NaiveDateTime,
}

fn about(conn: &mut DbConnection, voucher: &VoucherId) -> QueryResult<About> {
    let (user, campaign, title, item, expires_at, claim_ends_at) = vouchers::table
        .inner_join(campaigns::table)
        .filter(vouchers::id.eq(voucher))
        .select((
            vouchers::user_id,
            vouchers::campaign_id,
            campaigns::title,
            campaigns::item_name,
            vouchers::expires_at,
            campaigns::claim_ends_at,
        ))
        .first(conn)?;
    Ok(About {
        user,
        campaign,
        title,
        item,
        expires_at,
        claim_ends_at,
    })
}

fn send(
    conn: &mut DbConnection,
    voucher: &VoucherId,
    kind: NotificationKind,
    words: impl FnOnce(&About) -> (String, String),
    now: NaiveDateTime,
) -> QueryResult<()> {
    let a = about(conn, voucher)?;
    let (title, body) = words(&a);
    let n = NewNotification {
        user: &a.user,
        kind,
        title,
        body,
        voucher: Some(voucher),
        campaign: Some(&a.campaign),
    };
    notifications::notify(conn, n, now).map(|_| ())
}

/// The voucher expires soon (an automatic stage, or an admin's reminder).
pub fn expiring(conn: &mut DbConnection, voucher: &VoucherId, now: NaiveDateTime) -> QueryResult<()> {
    send(
        conn,
        voucher,
        NotificationKind::VoucherExpiring,
        |a| {
            (
                "礼包券即将过期".to_owned(),
                format!(
                    "您领取的“{}”（{}）将于 {} 过期，请尽快到驿站核销领取。",
                    a.item,
                    a.title,
                    civil::show(a.expires_at)
                ),
            )
        },
        now,
    )
}

/// The voucher expired unused; its unit went back to stock.
pub fn expired(conn: &mut DbConnection, voucher: &VoucherId, now: NaiveDateTime) -> QueryResult<()> {
    send(
        conn,
        voucher,
        NotificationKind::VoucherExpired,
        |a| {
            // Only while claims are open does the unit go to someone else.
            let after = if a.expires_at < a.claim_ends_at {
                "礼包已退回，留给其他职工。"
            } else {
                "活动已结束。"
            };
            (
                "礼包券已过期".to_owned(),
                format!(
                    "您领取的“{}”（{}）已于 {} 过期，{after}",
                    a.item,
                    a.title,
                    civil::show(a.expires_at)
                ),
            )
        },
        now,
    )
}

/// An admin withdrew the voucher, for `reason`.
pub fn revoked(
    conn: &mut DbConnection,
    voucher: &VoucherId,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    send(
        conn,
        voucher,
        NotificationKind::VoucherRevoked,
        |a| {
            (
                "礼包券已作废".to_owned(),
                format!("您领取的“{}”（{}）已被工会作废，原因：{reason}", a.item, a.title),
            )
        },
        now,
    )
}

/// A redemption was reversed (冲正): the voucher can be redeemed again.
pub fn reversed(conn: &mut DbConnection, voucher: &VoucherId, now: NaiveDateTime) -> QueryResult<()> {
    send(
        conn,
        voucher,
        NotificationKind::RedemptionReversed,
        |a| {
            (
                "核销已撤销".to_owned(),
                format!(
                    "您的“{}”（{}）核销记录已撤销（冲正），券可在 {} 前再次核销。",
                    a.item,
                    a.title,
                    civil::show(a.expires_at)
                ),
            )
        },
        now,
    )
}

/// The union allocated each of `issued` (voucher, worker) a voucher (精准发放): what it is,
/// how it reaches them, and until when; written from the allocation's own facts, in one
/// statement per table.
pub fn allocated(
    conn: &mut DbConnection,
    issued: &[(VoucherId, UserId)],
    campaign: &crate::domain::campaigns::Campaign,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<()> {
    use crate::domain::campaigns::Fulfilment;
    let how = match campaign.fulfilment {
        Fulfilment::Delivery => "工作人员将送货上门，请在“我的”中确认收货地址，交接时出示券码。".to_owned(),
        Fulfilment::Pickup => format!("请在 {} 前凭券码到指定驿站领取。", civil::show(expires_at)),
    };
    let body = format!(
        "“{}”（{}）已发到您的卡包。{how}",
        campaign.item_name, campaign.title
    );
    let ns: Vec<NewNotification> = issued
        .iter()
        .map(|(voucher, user)| NewNotification {
            user,
            kind: NotificationKind::VoucherAllocated,
            title: "工会为您发放了礼包".to_owned(),
            body: body.clone(),
            voucher: Some(voucher),
            campaign: Some(&campaign.id),
        })
        .collect();
    notifications::notify_many(conn, &ns, now).map(|_| ())
}

/// The worker's micro-wish (微心愿) came true with this voucher's hand-over.
pub fn wish_fulfilled(
    conn: &mut DbConnection,
    voucher: &VoucherId,
    wish_text: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    send(
        conn,
        voucher,
        NotificationKind::WishFulfilled,
        |a| {
            (
                "您的微心愿已实现".to_owned(),
                format!(
                    "您的心愿“{wish_text}”已通过“{}”（{}）实现，欢迎评价。",
                    a.item, a.title
                ),
            )
        },
        now,
    )
}
