//! Roster import (名册导入): a union's existing member list as CSV, as Excel writes it.
//!
//! Lines are parsed with the `csv` crate into typed lines or per-line errors; the import
//! then runs in one transaction that is rolled back for a dry run and whenever any line
//! is wrong, so a file is applied whole or not at all, and a dry run's counts are those
//! of the real run. Every decision is keyed by phone, so the same file twice changes
//! nothing.

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use crate::domain::civil;
use crate::domain::phone::Phone;
use crate::domain::profile::{Occupation, PersonName, RegionCode};

/// The columns, in the contract's order (any order is read; `phone` and `name` must be there).
pub const COLUMNS: [&str; 5] = ["phone", "name", "occupation", "region_code", "member_since"];
/// The most lines one file may hold.
pub const MAX_LINES: usize = 100_000;

/// A line that parsed.
#[derive(Debug, Clone)]
pub struct Line {
    pub line: u64,
    pub phone: Phone,
    pub name: String,
    pub occupation: Option<Occupation>,
    pub region_code: Option<String>,
    /// `None` when the cell was empty: a waiting line keeps its date, a new member gets today.
    pub member_since: Option<NaiveDateTime>,
}

/// A line that did not, with a message an office worker can act on.
#[derive(Debug, Clone, Serialize)]
pub struct LineError {
    pub line: u64,
    pub message: String,
}

fn date(raw: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let parsed = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%Y/%m/%d"))
        .map_err(|_| format!("入会日期“{raw}”无法识别，请写成 2020-03-01"))?;
    if parsed > today {
        return Err(format!("入会日期“{raw}”晚于今天"));
    }
    Ok(parsed)
}

fn line_of(line: u64, cells: &[Option<&str>; 5], today: NaiveDate) -> Result<Line, String> {
    let [phone, name, occupation, region, since] = cells.map(|c| c.map(str::trim).unwrap_or(""));
    let phone = Phone::parse(phone).ok_or_else(|| format!("手机号“{phone}”不是 11 位手机号"))?;
    let name = PersonName::parse(name).map_err(|e| format!("姓名{}", e.message()))?;
    let occupation = match occupation {
        "" => None,
        raw => Some(Occupation::parse(raw).ok_or_else(|| {
            let known: Vec<&str> = Occupation::ALL.iter().map(|o| o.as_str()).collect();
            format!("职业“{raw}”不在可选范围内（{}）", known.join("、"))
        })?),
    };
    let region = match region {
        "" => None,
        raw => Some(
            RegionCode::parse(raw)
                .ok_or_else(|| format!("地区代码“{raw}”应为 6 位行政区划代码"))?
                .into_string(),
        ),
    };
    let since = match since {
        "" => None,
        raw => Some(civil::start_of(date(raw, today)?)),
    };
    Ok(Line {
        line,
        phone,
        name: name.into_string(),
        occupation,
        region_code: region,
        member_since: since,
    })
}

/// The 1-based line of the file a record starts on, as Excel numbers it. The reader's
/// position may still sit on the line end before the record (and blank lines it skipped),
/// so the line is counted from the bytes: every `\n` before the record's first byte.
fn line_at(body: &[u8], p: &csv::Position) -> u64 {
    let mut start = usize::try_from(p.byte()).unwrap_or(usize::MAX).min(body.len());
    while start < body.len() && matches!(body[start], b'\r' | b'\n') {
        start += 1;
    }
    let breaks = body[..start].iter().filter(|b| **b == b'\n').count();
    u64::try_from(breaks).unwrap_or(u64::MAX).saturating_add(1)
}

/// Reads the file: UTF-8 with or without a BOM, CRLF or LF, a header row naming the
/// columns. Returns the good lines and the errors (a repeated phone is an error on its
/// later line). A file-level problem is one error on line 1.
pub fn parse(body: &[u8], now: NaiveDateTime) -> (Vec<Line>, Vec<LineError>) {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let today = civil::date_of(now);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(body);
    let file_error = |message: String| (Vec::new(), vec![LineError { line: 1, message }]);
    let header = match reader.byte_headers() {
        Ok(h) => h.clone(),
        Err(_) => return file_error("无法读取表头，请使用 CSV UTF-8 格式".into()),
    };
    let position = |name: &str| {
        header
            .iter()
            .position(|h| String::from_utf8_lossy(h).trim().eq_ignore_ascii_case(name))
    };
    let columns = COLUMNS.map(position);
    if columns[0].is_none() || columns[1].is_none() {
        return file_error(format!("表头应为 {}", COLUMNS.join(",")));
    }
    let (mut lines, mut errors) = (Vec::new(), Vec::new());
    let mut seen = std::collections::HashMap::new();
    for record in reader.byte_records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| line_at(body, p));
                errors.push(LineError {
                    line,
                    message: "这一行无法读取（引号不成对？）".into(),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| line_at(body, p));
        if lines.len() + errors.len() >= MAX_LINES {
            errors.push(LineError {
                line,
                message: format!("一次最多导入 {MAX_LINES} 行，请分成几个文件"),
            });
            break;
        }
        if record.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) {
            continue; // Excel leaves empty lines at the end.
        }
        let Ok(text) = record
            .iter()
            .map(std::str::from_utf8)
            .collect::<Result<Vec<_>, _>>()
        else {
            errors.push(LineError {
                line,
                message: "不是 UTF-8 编码，请在 Excel 中另存为“CSV UTF-8”".into(),
            });
            continue;
        };
        let cells = columns.map(|c| c.and_then(|i| text.get(i).copied()));
        match line_of(line, &cells, today) {
            Err(message) => errors.push(LineError { line, message }),
            Ok(parsed) => match seen.insert(parsed.phone.as_str().to_owned(), line) {
                Some(first) => errors.push(LineError {
                    line,
                    message: format!("手机号与第 {first} 行重复"),
                }),
                None => lines.push(parsed),
            },
        }
    }
    (lines, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_lines(body: &str) -> Vec<u64> {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 30)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or_default();
        parse(body.as_bytes(), now).1.iter().map(|e| e.line).collect()
    }

    #[test]
    fn errors_name_the_line_excel_shows() {
        let header = "phone,name,occupation,region_code,member_since";
        let good = "13800000001,王一,courier,331004,2020-03-01";
        let bad = "1234,王二,,,";
        assert_eq!(error_lines(&format!("{header}\n{good}\n{bad}\n")), vec![3]);
        assert_eq!(error_lines(&format!("{header}\r\n{good}\r\n{bad}\r\n")), vec![3]);
        assert_eq!(
            error_lines(&format!("\u{feff}{header}\r\n\r\n{good}\r\n\r\n{bad}")),
            vec![5]
        );
        // A quoted name over two lines: the record after it starts on line 4.
        let quoted = "13800000003,\"王\n三\",,,";
        assert_eq!(
            error_lines(&format!("{header}\n{quoted}\n{bad}\n")).last(),
            Some(&4)
        );
    }
}
