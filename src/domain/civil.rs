//! Civil time (北京时间): how people type and read times (contract v1.1, "Time").
//!
//! The database and JSON keep UTC; a person types and reads the service's civil zone,
//! `Asia/Shanghai` unless `TIME_ZONE` names another IANA zone. The zone is process-wide
//! state set once at start-up because serde parses request bodies without any context
//! to carry it; until then (unit tests, tools) it is `Asia/Shanghai`.

use std::sync::OnceLock;

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, SubsecRound, TimeZone, Timelike,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

static ZONE: OnceLock<Tz> = OnceLock::new();

/// The default civil zone: China Standard Time.
pub const DEFAULT_ZONE: Tz = chrono_tz::Asia::Shanghai;

/// Sets the civil zone for the process; a second, different call is ignored (it names
/// the zone every instance of one deployment shares).
pub fn set_zone(zone: Tz) {
    let _ = ZONE.set(zone);
}

pub fn zone() -> Tz {
    ZONE.get().copied().unwrap_or(DEFAULT_ZONE)
}

/// A stored UTC instant as a person reads it: `2026-12-01 09:00`.
pub fn show(t: NaiveDateTime) -> String {
    zone().from_utc_datetime(&t).format("%Y-%m-%d %H:%M").to_string()
}

/// The civil calendar date of a stored UTC instant.
pub fn date_of(t: NaiveDateTime) -> NaiveDate {
    zone().from_utc_datetime(&t).date_naive()
}

/// A civil wall-clock time as a UTC instant; `None` where the zone skips that time. An
/// ambiguous time (a zone's autumn change) is read as the earlier instant.
pub fn to_utc(local: NaiveDateTime) -> Option<NaiveDateTime> {
    match zone().from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.naive_utc()),
        LocalResult::None => None,
    }
}

/// Which instant of a bare date a field means.
#[derive(Debug, Clone, Copy)]
enum DayEdge {
    Start,
    End,
}

const INPUT_HINT: &str =
    "时间格式应为 2026-12-01T09:00:00（北京时间）、带时区的 2026-12-01T09:00:00+08:00，或日期 2026-12-01";

fn parse_instant(raw: &str, edge: DayEdge) -> Result<NaiveDateTime, String> {
    let t = read_instant(raw, edge)?;
    // Campaigns live in this century; a leap second (`09:00:60`) is no time to open one.
    if !(2000..=2100).contains(&t.year()) || t.nanosecond() >= 1_000_000_000 {
        return Err("时间应在 2000 年到 2100 年之间，且秒数不超过 59".to_owned());
    }
    Ok(t)
}

fn read_instant(raw: &str, edge: DayEdge) -> Result<NaiveDateTime, String> {
    // RFC 3339 lets a space stand for the `T`; people type it that way too.
    let raw = raw.trim().replacen(' ', "T", 1);
    let raw = raw.as_str();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.naive_utc().trunc_subsecs(6));
    }
    let local = if let Ok(t) = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f") {
        t
    } else if let Ok(t) = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M") {
        t
    } else if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        match edge {
            DayEdge::Start => d.and_time(NaiveTime::MIN),
            // 23:59:59: the last whole second a person would name as "that day".
            DayEdge::End => d.and_hms_opt(23, 59, 59).unwrap_or(d.and_time(NaiveTime::MIN)),
        }
    } else {
        return Err(INPUT_HINT.to_owned());
    };
    to_utc(local.trunc_subsecs(6))
        .ok_or_else(|| "该时间在本地时区不存在（夏令时跳过），请换一个时间".to_owned())
}

macro_rules! instant_input {
    ($(#[$doc:meta])* $name:ident, $edge:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name(pub NaiveDateTime);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                parse_instant(&raw, $edge).map(Self).map_err(serde::de::Error::custom)
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                crate::domain::utc(self.0).serialize(s)
            }
        }
    };
}

instant_input!(
    /// An instant that starts something (`claim_starts_at`): a bare date is 00:00 civil.
    StartInput,
    DayEdge::Start
);
instant_input!(
    /// A deadline (`claim_ends_at`, `redeem_until`): a bare date is 23:59:59 civil.
    EndInput,
    DayEdge::End
);

/// A civil calendar date as rules use it (`member_since_before`): `YYYY-MM-DD`.
pub fn parse_date(raw: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| "日期格式应为 2026-01-01".to_owned())
}

/// The UTC instant a civil date begins.
pub fn start_of(date: NaiveDate) -> NaiveDateTime {
    to_utc(date.and_time(NaiveTime::MIN)).unwrap_or(date.and_time(NaiveTime::MIN))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(raw: &str) -> String {
        crate::domain::utc(parse_instant(raw, DayEdge::Start).unwrap()).to_rfc3339()
    }

    #[test]
    fn civil_inputs_become_utc() {
        assert_eq!(start("2026-12-01T09:00:00"), "2026-12-01T01:00:00+00:00");
        assert_eq!(start("2026-12-01T09:00:00+08:00"), "2026-12-01T01:00:00+00:00");
        assert_eq!(start("2026-12-01T01:00:00Z"), "2026-12-01T01:00:00+00:00");
        assert_eq!(start("2026-12-01"), "2026-11-30T16:00:00+00:00");
        let end = parse_instant("2027-01-28", DayEdge::End).unwrap();
        assert_eq!(crate::domain::utc(end).to_rfc3339(), "2027-01-28T15:59:59+00:00");
        assert!(parse_instant("2026-12-01 09", DayEdge::Start).is_err());
        assert_eq!(start("2026-12-01 09:00"), "2026-12-01T01:00:00+00:00");
        assert_eq!(start("2026-12-01 09:00:00+08:00"), "2026-12-01T01:00:00+00:00");
        for bad in [
            "-0001-12-01",
            "2026-12-01T09:00:60",
            "2102-01-01",
            "1999-12-31T23:00:00Z",
        ] {
            assert!(parse_instant(bad, DayEdge::Start).is_err(), "{bad}");
        }
    }

    #[test]
    fn people_read_beijing_time() {
        let t = parse_instant("2026-12-01T01:00:00Z", DayEdge::Start).unwrap();
        assert_eq!(show(t), "2026-12-01 09:00");
        let late = parse_instant("2026-11-29T18:13:00Z", DayEdge::Start).unwrap();
        assert_eq!(date_of(late).to_string(), "2026-11-30");
    }
}
