//! Free text a person typed (names, titles, reasons, terminal names): contract v1.1,
//! "Free text". Trimmed and NFC-normalised; refused when nothing visible is left or when
//! it holds control, bidirectional-override or zero-width characters, which would make a
//! holder's name blank or reversed on a counter screen.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// Why a text was refused; `message()` is the Chinese sentence for the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextRefusal {
    /// Nothing visible (empty, or only spaces).
    Blank,
    /// More than the field's `max` characters (after normalisation).
    TooLong(usize),
    /// A control, bidi-override or zero-width character, e.g. U+200B.
    Invisible(char),
}

impl TextRefusal {
    pub fn message(self) -> String {
        match self {
            Self::Blank => "不能为空".to_owned(),
            Self::TooLong(max) => format!("不能超过 {max} 个字"),
            Self::Invisible(c) => format!("含有不可见或控制字符（U+{:04X}），请删除后重新输入", u32::from(c)),
        }
    }
}

/// Characters no person means to type: C0/C1 controls, zero-width and bidi controls,
/// word joiners and invisible operators, the BOM (the ranges the contract lists).
pub fn is_invisible(c: char) -> bool {
    matches!(u32::from(c),
        0x0000..=0x001F | 0x007F..=0x009F | 0x200B..=0x200F | 0x202A..=0x202E
        | 0x2060..=0x206F | 0xFEFF)
}

/// Trims, NFC-normalises and checks `raw`; at most `max` characters.
pub fn clean(raw: &str, max: usize) -> Result<String, TextRefusal> {
    let text: String = raw.trim().nfc().collect();
    if let Some(c) = text.chars().find(|&c| is_invisible(c)) {
        return Err(TextRefusal::Invisible(c));
    }
    if text.chars().all(char::is_whitespace) {
        return Err(TextRefusal::Blank);
    }
    if text.chars().count() > max {
        return Err(TextRefusal::TooLong(max));
    }
    Ok(text)
}

/// A free-text value of at most `MAX` characters, cleaned by [`clean`] on the way in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FreeText<const MAX: usize>(String);

impl<const MAX: usize> FreeText<MAX> {
    pub fn parse(raw: &str) -> Result<Self, TextRefusal> {
        clean(raw, MAX).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

impl<'de, const MAX: usize> Deserialize<'de> for FreeText<MAX> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(|e| serde::de::Error::custom(e.message()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_and_blank_texts_are_refused() {
        for bad in [
            "",
            "   ",
            "\u{3000}",
            "\u{200b}",
            "\u{202e}明小王",
            "a\u{0}b",
            "\u{feff}名",
            "王\u{2066}",
        ] {
            assert!(clean(bad, 40).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn texts_are_trimmed_and_composed() {
        assert_eq!(clean("  王小明 ", 40).unwrap(), "王小明");
        assert_eq!(clean("e\u{301}", 40).unwrap(), "\u{e9}");
        assert_eq!(clean("前台1号", 40).unwrap(), "前台1号");
        assert_eq!(clean("一二三", 2), Err(TextRefusal::TooLong(2)));
    }
}
