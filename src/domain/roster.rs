//! Roster lines waiting for their phone to register (contract v1.1, "The union office").
//! The phone is kept only as a keyed hash (`phone_tag`), as attestations keep theirs.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::roster_entries;
use crate::db::DbConnection;
use crate::domain::ids::{UnionId, UserId};
use crate::domain::phone::Phone;
use crate::domain::profile::Occupation;
use crate::domain::voucher_code::VoucherKeys;

const PHONE_LABEL: &str = "roster-phone:";

/// The keyed hash a roster line is filed under.
pub fn phone_tag(keys: &VoucherKeys, phone: &Phone) -> String {
    keys.tag(PHONE_LABEL, phone.as_str())
}

/// A waiting line.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = roster_entries)]
pub struct Entry {
    pub phone_tag: String,
    pub union_id: UnionId,
    pub name: String,
    pub occupation: Option<Occupation>,
    pub region_code: Option<String>,
    pub member_since: NaiveDateTime,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
}

impl Entry {
    /// Same person, same facts (who filed it and when do not count).
    pub fn same_as(&self, other: &Self) -> bool {
        self.union_id == other.union_id
            && self.name == other.name
            && self.occupation == other.occupation
            && self.region_code == other.region_code
            && self.member_since == other.member_since
    }
}

pub fn find(conn: &mut DbConnection, tag: &str) -> QueryResult<Option<Entry>> {
    roster_entries::table
        .find(tag)
        .select(Entry::as_select())
        .first(conn)
        .optional()
}

/// Files the line, or replaces the waiting line of the same phone.
pub fn put(conn: &mut DbConnection, entry: &Entry) -> QueryResult<()> {
    let updated = diesel::update(roster_entries::table.find(&entry.phone_tag))
        .set(entry)
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(roster_entries::table)
            .values(entry)
            .execute(conn)?;
    }
    Ok(())
}

/// Takes the phone's waiting line away (it is being applied); `None` when there is none.
pub fn take(conn: &mut DbConnection, tag: &str) -> QueryResult<Option<Entry>> {
    let entry = find(conn, tag)?;
    if entry.is_some() {
        diesel::delete(roster_entries::table.find(tag)).execute(conn)?;
    }
    Ok(entry)
}
