//! A worker's inbox (contract v1.1, "Notifications (workers)"). A notification is written
//! by the transition it announces, in the same transaction, together with its outbox row
//! for the notification gateway (`NOTIFY_WEBHOOK_URL`), so neither is lost or doubled.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use crate::db::schema::{notifications, users};
use crate::db::DbConnection;
use crate::domain::ids::{CampaignId, NotificationId, UserId, VoucherId};
use crate::domain::phone::Phone;
use crate::domain::utc;
use crate::outbox;

crate::text_enum!(
    /// What a notification is about (the contract's kinds).
    pub enum NotificationKind {
        MembershipApproved => "membership_approved",
        MembershipRejected => "membership_rejected",
        MembershipEnded => "membership_ended",
        VoucherExpiring => "voucher_expiring",
        VoucherExpired => "voucher_expired",
        VoucherRevoked => "voucher_revoked",
        RedemptionReversed => "redemption_reversed",
        VoucherAllocated => "voucher_allocated",
        WishFulfilled => "wish_fulfilled",
    }
);

/// A notification to write: Chinese title and body (times already in civil time).
#[derive(Debug, Clone)]
pub struct NewNotification<'a> {
    pub user: &'a UserId,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    pub voucher: Option<&'a VoucherId>,
    pub campaign: Option<&'a CampaignId>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notifications)]
pub struct Notification {
    pub id: NotificationId,
    pub user_id: UserId,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    pub voucher_id: Option<VoucherId>,
    pub campaign_id: Option<CampaignId>,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
}

/// Writes the notification and its gateway delivery. Call inside the transaction of the
/// change it announces.
pub fn notify(
    conn: &mut DbConnection,
    n: NewNotification<'_>,
    now: NaiveDateTime,
) -> QueryResult<NotificationId> {
    let mut ids = notify_many(conn, std::slice::from_ref(&n), now)?;
    ids.pop().ok_or(diesel::result::Error::NotFound)
}

/// Writes notifications and their gateway deliveries, a statement for each table (an
/// allocation's batch tells hundreds of workers at once). Call inside the transaction
/// of the change they announce.
pub fn notify_many(
    conn: &mut DbConnection,
    ns: &[NewNotification<'_>],
    now: NaiveDateTime,
) -> QueryResult<Vec<NotificationId>> {
    let ids: Vec<NotificationId> = ns.iter().map(|_| NotificationId::generate()).collect();
    let rows: Vec<_> = ns
        .iter()
        .zip(&ids)
        .map(|(n, id)| {
            (
                notifications::id.eq(id),
                notifications::user_id.eq(n.user),
                notifications::kind.eq(n.kind),
                notifications::title.eq(&n.title),
                notifications::body.eq(&n.body),
                notifications::voucher_id.eq(n.voucher),
                notifications::campaign_id.eq(n.campaign),
                notifications::created_at.eq(now),
            )
        })
        .collect();
    crate::db::insert_rows!(conn, notifications::table, rows)?;
    // The gateway sends SMS / WeChat / push: it needs the numbers (never logged).
    let users: Vec<&UserId> = ns.iter().map(|n| n.user).collect();
    let phones: std::collections::HashMap<UserId, Phone> = users::table
        .filter(users::id.eq_any(&users))
        .select((users::id, users::phone))
        .load(conn)?
        .into_iter()
        .collect();
    let mut datas = Vec::with_capacity(ns.len());
    for (n, id) in ns.iter().zip(&ids) {
        let phone = phones.get(n.user).ok_or(diesel::result::Error::NotFound)?;
        datas.push(json!({
            "id": id, "kind": n.kind, "title": n.title, "body": n.body, "user_id": n.user,
            "phone": phone.as_str(), "voucher_id": n.voucher, "campaign_id": n.campaign,
            "created_at": utc(now),
        }));
    }
    outbox::enqueue_many(conn, outbox::GATEWAY, "notification.created", &datas, now)?;
    Ok(ids)
}

/// A page of the worker's inbox, newest first, before the `before` id.
pub fn page(
    conn: &mut DbConnection,
    user: &UserId,
    before: Option<&NotificationId>,
    limit: i64,
) -> QueryResult<Vec<Notification>> {
    let mut query = notifications::table
        .filter(notifications::user_id.eq(user))
        .order(notifications::id.desc())
        .limit(limit)
        .select(Notification::as_select())
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(notifications::id.lt(before));
    }
    query.load(conn)
}

/// Marks the worker's own notification read (once; a second call changes nothing).
/// False when the id is not the worker's.
pub fn mark_read(
    conn: &mut DbConnection,
    user: &UserId,
    id: &NotificationId,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let mine = notifications::table
        .find(id)
        .filter(notifications::user_id.eq(user));
    if !diesel::select(diesel::dsl::exists(mine)).get_result::<bool>(conn)? {
        return Ok(false);
    }
    diesel::update(mine.filter(notifications::read_at.is_null()))
        .set(notifications::read_at.eq(now))
        .execute(conn)?;
    Ok(true)
}
