//! Turns what serde says about a bad body or query into a field path and a Chinese
//! sentence (contract v1.1, "Validation errors"): no parser positions, no English.

use crate::domain::invalid::Invalid;

/// True when `s` already holds Chinese (our own messages from domain types).
fn is_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// The text between the first pair of backticks: serde's way of quoting a name.
fn quoted(s: &str) -> Option<&str> {
    let start = s.find('`')? + 1;
    let len = s[start..].find('`')?;
    Some(&s[start..start + len])
}

/// What kind of value serde wanted, in words a person knows.
fn expected_kind(expected: &str) -> &'static str {
    let e = expected.to_ascii_lowercase();
    if e.starts_with("struct") || e.contains("map") || e.contains("object") {
        "对象（{…}）"
    } else if ["i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "integer"]
        .iter()
        .any(|k| e.contains(k))
    {
        "整数"
    } else if e.contains("f32") || e.contains("f64") || e.contains("float") {
        "数字"
    } else if e.contains("bool") {
        "true 或 false"
    } else if e.contains("sequence") || e.contains("array") || e.contains("list") || e.contains("vec") {
        "列表"
    } else if e.contains("string") || e.contains("str") || e.contains("char") || e.contains("uuid") {
        "文本"
    } else {
        "正确的类型"
    }
}

/// Drops serde_json's " at line 1 column 166" from a message.
fn without_position(message: &str) -> &str {
    message.find(" at line ").map_or(message, |i| &message[..i])
}

/// serde's own sentences start with these; anything else is one of our domain types'
/// Chinese messages (which may quote a value, so "has Chinese" alone says nothing).
const SERDE_PREFIXES: &[&str] = &[
    "unknown field ",
    "missing field ",
    "unknown variant ",
    "invalid type",
    "invalid value",
    "invalid length",
    "duplicate field",
];

/// A data error at `path` (serde_path_to_error's rendering, `.` for the root).
pub fn data_error(path: &str, message: &str) -> Invalid {
    let path = if path == "." { "" } else { path };
    let message = without_position(message);
    // A rule reports where inside itself it failed (see `rules::PATH_SEPARATOR`).
    if let Some((inner, rest)) = message.split_once(crate::domain::rules::PATH_SEPARATOR) {
        let nested = if inner.is_empty() {
            path.to_owned()
        } else {
            format!("{path}.{inner}")
        };
        let nested = nested.trim_start_matches('.').to_owned();
        return data_error(&nested, rest);
    }
    let ours = !SERDE_PREFIXES.iter().any(|p| message.starts_with(p));
    let path = or_body(path);
    if ours && is_chinese(message) && !message.contains("expected") {
        return Invalid::new(path, message);
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let name = quoted(rest).unwrap_or("?");
        let parent = parent_of(path, name);
        let parent = if parent == "body" { "" } else { parent };
        return Invalid::new(name, "不支持此字段，请删除").under(parent);
    }
    if let Some(rest) = message.strip_prefix("missing field ") {
        let parent = if path == "body" { "" } else { path };
        return Invalid::new(quoted(rest).unwrap_or("?"), "缺少此必填项").under(parent);
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let given = quoted(rest).unwrap_or("?");
        let allowed = rest
            .split_once("expected ")
            .map(|(_, list)| list.replace("one of ", "").replace('`', "").replace(", ", "、"))
            .unwrap_or_default();
        return Invalid::new(path, format!("“{given}”不在可选范围内，可选：{allowed}"));
    }
    if message.starts_with("invalid type") {
        let expected = message.split_once("expected ").map_or("", |(_, e)| e);
        return Invalid::new(path, format!("类型不正确，应为{}", expected_kind(expected)));
    }
    if message.starts_with("invalid length") {
        return Invalid::new(path, "数量不正确");
    }
    if let Some(rest) = message.strip_prefix("duplicate field ") {
        let parent = if path == "body" { "" } else { path };
        return Invalid::new(quoted(rest).unwrap_or("?"), "出现了两次，请只写一次").under(parent);
    }
    Invalid::new(path, "取值不正确")
}

/// The whole body where serde names no field.
fn or_body(path: &str) -> &str {
    if path.is_empty() || path == "?" {
        "body"
    } else {
        path
    }
}

/// A syntax error found inside a value at `path` (serde_json calls a wrong token for an
/// enum, or a number beyond any integer, a syntax error).
pub fn value_syntax_error(path: &str, message: &str) -> Invalid {
    if message.contains("number out of range") {
        Invalid::new(path, "数字超出范围")
    } else {
        Invalid::new(path, "取值类型不正确")
    }
}

/// serde_path_to_error reports an unknown field at the field's own path; the name is
/// already the last segment, so the parent is the path without it.
fn parent_of<'a>(path: &'a str, name: &str) -> &'a str {
    path.strip_suffix(name)
        .map(|p| p.strip_suffix('.').unwrap_or(p))
        .unwrap_or(path)
}

/// A body that is not JSON at all (or cut short).
pub fn syntax_error(eof: bool) -> Invalid {
    if eof {
        Invalid::new("body", "请求内容不完整，不是完整的 JSON")
    } else {
        Invalid::new("body", "请求内容不是合法的 JSON")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_sentences_become_chinese_with_a_field() {
        let e = data_error(
            "total_stock",
            "invalid type: floating point `5.5`, expected i64 at line 1 column 20",
        );
        assert_eq!(e.field, "total_stock");
        assert!(e.message.contains("整数"), "{}", e.message);
        let e = data_error(".", "missing field `title`");
        assert_eq!(e.field, "title");
        let e = data_error(
            "occupation",
            "unknown variant `快递`, expected one of `courier`, `other`",
        );
        assert!(
            !e.message.contains("unknown") && e.message.contains("快递"),
            "{}",
            e.message
        );
        let e = data_error("total_stock", "invalid type: string \"十\", expected i64");
        assert!(e.message.contains("整数"), "{}", e.message);
        let e = data_error("状态", "unknown field `状态`, expected `limit` or `cursor`");
        assert_eq!(
            (e.field.as_str(), e.message.contains("expected")),
            ("状态", false)
        );
        let e = data_error(".", "invalid type: string \"x\", expected struct Registration");
        assert_eq!(e.field, "body");
        assert!(e.message.contains("对象"), "{}", e.message);
        let e = data_error(".", "duplicate field `title`");
        assert_eq!(e.field, "title");
        let e = data_error("rules[0]", "missing field `values`");
        assert_eq!(e.field, "rules[0].values");
        let e = data_error("rules[0].colour", "unknown field `colour`, expected `type`");
        assert_eq!(e.field, "rules[0].colour");
        let e = data_error(
            "occupation",
            "unknown variant `pilot`, expected one of `courier`, `other`",
        );
        assert!(e.message.contains("courier、other"), "{}", e.message);
        assert!(!e.message.contains("expected"));
    }
}
