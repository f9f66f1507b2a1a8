//! CSV as a union office opens it in Excel: a UTF-8 BOM (so Chinese shows correctly),
//! Beijing civil time, and cells that a spreadsheet would run as a formula defused.

use chrono::{NaiveDateTime, TimeZone};

use crate::domain::civil;

/// The UTF-8 byte order mark Excel needs to read the file as UTF-8.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A cell that would start with `=`, `+`, `-`, `@`, Tab or CR gets a leading `'`, so a
/// spreadsheet shows it as text and never evaluates it (OWASP "CSV injection"; contract v1.1).
pub fn guard(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// A stored UTC instant as Beijing civil time, `2026-12-01 09:00:00`.
pub fn time(t: NaiveDateTime) -> String {
    civil::zone()
        .from_utc_datetime(&t)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// `time`, or an empty cell when there is no instant.
pub fn time_opt(t: Option<NaiveDateTime>) -> String {
    t.map(time).unwrap_or_default()
}

/// A flag as an office reads it: 是 / 否.
pub fn yes_no(b: bool) -> String {
    if b { "是" } else { "否" }.to_owned()
}

/// Rows as CSV bytes (RFC 4180 quoting by the `csv` crate), every cell guarded.
pub fn encode(rows: Vec<Vec<String>>) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for row in rows {
        // Writing into a Vec cannot fail.
        let _ = w.write_record(row.into_iter().map(guard));
    }
    w.into_inner().unwrap_or_default()
}
