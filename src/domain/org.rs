//! The union tree and its stations.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{staff_stations, stations, unions};
use crate::db::DbConnection;
use crate::domain::ids::{StationId, UnionId, UserId};
use crate::domain::invalid::Invalid;

crate::text_enum!(
    /// `unions.kind`: the level of a union in the tree.
    pub enum UnionKind {
        National => "national",
        Province => "province",
        City => "city",
        District => "district",
        Grassroots => "grassroots",
    }
);

impl UnionKind {
    /// What a new union is when its creator does not say: below a district it is
    /// grassroots, otherwise the region code tells (`330000` province, `331000` city).
    pub fn infer(region_code: &str, parent: Option<&Union>) -> Self {
        if parent.is_some_and(|p| matches!(p.kind, Self::District | Self::Grassroots)) {
            return Self::Grassroots;
        }
        match region_code {
            "100000" => Self::National,
            c if c.ends_with("0000") => Self::Province,
            c if c.ends_with("00") => Self::City,
            _ => Self::District,
        }
    }
}

impl UnionKind {
    fn rank(self) -> u8 {
        match self {
            Self::National => 0,
            Self::Province => 1,
            Self::City => 2,
            Self::District => 3,
            Self::Grassroots => 4,
        }
    }

    /// A child sits below its parent's level; districts and grassroots unions may also
    /// hold their own kind (a street union under a district, a branch under a branch).
    pub fn may_sit_under(self, parent: Self) -> bool {
        self.rank() > parent.rank() || (self == parent && self.rank() >= Self::District.rank())
    }
}

/// A map position from optional `lat`/`lng`: both or neither, each within its range; the
/// refusal names the one at fault.
pub fn position(lat: Option<f64>, lng: Option<f64>) -> Result<Option<(f64, f64)>, Invalid> {
    match (lat, lng) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(Invalid::new("lng", "请同时填写经度")),
        (None, Some(_)) => Err(Invalid::new("lat", "请同时填写纬度")),
        (Some(lat), _) if !(-90.0..=90.0).contains(&lat) => {
            Err(Invalid::new("lat", "纬度应在 -90 到 90 之间"))
        }
        (_, Some(lng)) if !(-180.0..=180.0).contains(&lng) => {
            Err(Invalid::new("lng", "经度应在 -180 到 180 之间"))
        }
        (Some(lat), Some(lng)) => Ok(Some((lat, lng))),
    }
}

/// Whether `region` lies inside the union's region (the national union covers all).
pub fn region_covers(union: &Union, region: &str) -> bool {
    union.kind == UnionKind::National || region.starts_with(region_prefix(&union.region_code))
}

/// The significant prefix of a region code: `330000` → `33`, `331000` → `3310`.
pub fn region_prefix(code: &str) -> &str {
    let mut prefix = code;
    while prefix.len() > 2 && prefix.ends_with("00") {
        prefix = &prefix[..prefix.len() - 2];
    }
    prefix
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = unions)]
pub struct Union {
    pub id: UnionId,
    pub parent_id: Option<UnionId>,
    pub path: String,
    pub name: String,
    pub kind: UnionKind,
    pub region_code: String,
    pub onsite_auto_approve: bool,
    pub created_at: NaiveDateTime,
}

pub struct NewUnion<'a> {
    pub name: String,
    pub parent: Option<&'a Union>,
    pub kind: UnionKind,
    pub region_code: String,
    pub onsite_auto_approve: bool,
    pub created_by: &'a UserId,
}

pub fn create_union(conn: &mut DbConnection, new: NewUnion<'_>, now: NaiveDateTime) -> QueryResult<Union> {
    let id = UnionId::generate();
    let path = format!("{}{}/", new.parent.map_or("/", |p| p.path.as_str()), id);
    diesel::insert_into(unions::table)
        .values((
            unions::id.eq(&id),
            unions::parent_id.eq(new.parent.map(|p| &p.id)),
            unions::path.eq(&path),
            unions::name.eq(&new.name),
            unions::kind.eq(new.kind),
            unions::region_code.eq(&new.region_code),
            unions::onsite_auto_approve.eq(new.onsite_auto_approve),
            unions::created_at.eq(now),
            unions::created_by.eq(new.created_by),
        ))
        .execute(conn)?;
    find_union(conn, &id)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find_union(conn: &mut DbConnection, id: &UnionId) -> QueryResult<Option<Union>> {
    unions::table
        .find(id)
        .select(Union::as_select())
        .first(conn)
        .optional()
}

/// Issues the next member number of a union: the counter is bumped in the same
/// transaction, and `UNIQUE (union_id, member_no)` backs it.
pub fn next_member_no(conn: &mut DbConnection, union: &UnionId) -> QueryResult<String> {
    let (seq, region): (i64, String) = diesel::update(unions::table.find(union))
        .set(unions::member_seq.eq(unions::member_seq + 1))
        .returning((unions::member_seq, unions::region_code))
        .get_result(conn)?;
    Ok(format!("{region}{seq:07}"))
}

/// Public directory of unions, in creation order (ids are UUIDv7).
pub fn list_unions(
    conn: &mut DbConnection,
    parent: Option<&UnionId>,
    region_prefix: Option<&str>,
    after: Option<&UnionId>,
    limit: i64,
) -> QueryResult<Vec<Union>> {
    let mut query = unions::table
        .select(Union::as_select())
        .order(unions::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(parent) = parent {
        query = query.filter(unions::parent_id.eq(parent));
    }
    if let Some(prefix) = region_prefix {
        query = query.filter(unions::region_code.like(format!("{prefix}%")));
    }
    if let Some(after) = after {
        query = query.filter(unions::id.gt(after));
    }
    query.load(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = stations)]
pub struct Station {
    pub id: StationId,
    pub union_id: UnionId,
    pub name: String,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub open_24h: bool,
    pub opening_hours: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = stations)]
pub struct NewStation {
    pub id: StationId,
    pub union_id: UnionId,
    pub name: String,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub open_24h: bool,
    pub opening_hours: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn create_station(conn: &mut DbConnection, new: &NewStation) -> QueryResult<Station> {
    diesel::insert_into(stations::table).values(new).execute(conn)?;
    find_station(conn, &new.id)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find_station(conn: &mut DbConnection, id: &StationId) -> QueryResult<Option<Station>> {
    stations::table
        .find(id)
        .select(Station::as_select())
        .first(conn)
        .optional()
}

/// Stations whose union lies under `union_path` and, optionally, in a region.
pub fn stations_under(
    conn: &mut DbConnection,
    union_path: Option<&str>,
    region_prefix: Option<&str>,
) -> QueryResult<Vec<(Station, String)>> {
    let mut query = stations::table
        .inner_join(unions::table)
        .select((Station::as_select(), unions::name))
        .order(stations::id.asc())
        .into_boxed();
    if let Some(path) = union_path {
        query = query.filter(unions::path.like(format!("{path}%")));
    }
    if let Some(prefix) = region_prefix {
        query = query.filter(unions::region_code.like(format!("{prefix}%")));
    }
    query.load(conn)
}

/// True when the station exists and belongs to the union at `union_path` or one below it.
pub fn station_under(conn: &mut DbConnection, station: &StationId, union_path: &str) -> QueryResult<bool> {
    let path: Option<String> = stations::table
        .inner_join(unions::table)
        .filter(stations::id.eq(station))
        .select(unions::path)
        .first(conn)
        .optional()?;
    Ok(path.is_some_and(|p| p.starts_with(union_path)))
}

/// A counter's stations with the path of each station's union.
pub fn stations_of_staff(
    conn: &mut DbConnection,
    user: &UserId,
) -> QueryResult<Vec<(StationId, UnionId, String)>> {
    staff_stations::table
        .inner_join(stations::table.inner_join(unions::table))
        .filter(staff_stations::user_id.eq(user))
        .select((stations::id, stations::union_id, unions::path))
        .load(conn)
}

/// The union a staff account works for (`users.union_id`), with its name.
pub fn union_of_staff(conn: &mut DbConnection, user: &UserId) -> QueryResult<Option<(UnionId, String)>> {
    crate::db::schema::users::table
        .inner_join(unions::table.on(crate::db::schema::users::union_id.eq(unions::id.nullable())))
        .filter(crate::db::schema::users::id.eq(user))
        .select((unions::id, unions::name))
        .first(conn)
        .optional()
}

/// A staff account's stations by name, for its own `/me`.
pub fn named_stations_of_staff(
    conn: &mut DbConnection,
    user: &UserId,
) -> QueryResult<Vec<(StationId, String, UnionId)>> {
    staff_stations::table
        .inner_join(stations::table)
        .filter(staff_stations::user_id.eq(user))
        .order(stations::name.asc())
        .select((stations::id, stations::name, stations::union_id))
        .load(conn)
}

pub fn bind_stations(conn: &mut DbConnection, user: &UserId, stations: &[StationId]) -> QueryResult<()> {
    for station in stations {
        diesel::insert_into(staff_stations::table)
            .values((
                staff_stations::user_id.eq(user),
                staff_stations::station_id.eq(station),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Great-circle distance in whole metres.
pub fn distance_m(lat1: f64, lng1: f64, lat2: f64, lng2: f64) -> u64 {
    let metres = great_circle_m(lat1, lng1, lat2, lng2).round();
    // Between 0 and half the Earth's circumference (about 2e7), so exact in a u64.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let whole = metres.clamp(0.0, 4.0e7) as u64;
    whole
}

fn great_circle_m(lat1: f64, lng1: f64, lat2: f64, lng2: f64) -> f64 {
    const EARTH_RADIUS_M: f64 = 6_371_000.0;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lng2 - lng1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_prefixes_drop_trailing_zero_pairs() {
        assert_eq!(region_prefix("330000"), "33");
        assert_eq!(region_prefix("331000"), "3310");
        assert_eq!(region_prefix("331004"), "331004");
    }

    #[test]
    fn distance_between_two_taizhou_points() {
        // 路桥 to 椒江: roughly 11 km.
        let d = distance_m(28.58, 121.37, 28.66, 121.44);
        assert!((9_000..13_000).contains(&d), "{d}");
    }
}
