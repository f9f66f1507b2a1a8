//! The partner audit trail: every call a partner makes, with its route and answer.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::partner_calls;
use crate::db::DbConnection;
use crate::domain::ids::{PartnerCallId, PartnerId};

pub fn record(
    conn: &mut DbConnection,
    partner: &PartnerId,
    method: &str,
    route: &str,
    status: i32,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(partner_calls::table)
        .values((
            partner_calls::id.eq(PartnerCallId::generate()),
            partner_calls::partner_id.eq(partner),
            partner_calls::method.eq(method),
            partner_calls::route.eq(route),
            partner_calls::status.eq(status),
            partner_calls::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}
