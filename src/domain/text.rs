//! Free text a person typed (names, titles, reasons, terminal names): contract v1.1,
//! "Free text". Trimmed and NFC-normalised; refused when nothing visible is left or when
//! it holds control, bidirectional-override or zero-width characters, which would make a
//! holder's name blank or reversed on a counter screen.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};

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

/// Characters no person means to type: the ranges the contract lists (C0/C1 controls,
/// zero-width and bidi controls, word joiners and invisible operators, the BOM), and every
/// other control, format (soft hyphen, tags, the Arabic letter mark…) or line/paragraph
/// separator character Unicode knows. Private-use and not-yet-assigned characters pass:
/// rare name characters (生僻字) live there on some phones.
pub fn is_invisible(c: char) -> bool {
    matches!(u32::from(c),
        0x0000..=0x001F | 0x007F..=0x009F | 0x200B..=0x200F | 0x202A..=0x202E
        | 0x2060..=0x206F | 0xFEFF)
        || matches!(
            c.general_category(),
            GeneralCategory::Control
                | GeneralCategory::Format
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
                | GeneralCategory::Surrogate
        )
}

/// Letters and symbols that print as nothing: Hangul fillers, the halfwidth Hangul filler,
/// the braille blank, the object replacement character.
const BLANK_LOOKALIKES: &[char] = &[
    '\u{115F}', '\u{1160}', '\u{3164}', '\u{FFA0}', '\u{2800}', '\u{FFFC}',
];

/// A character that leaves ink: a letter, number, punctuation or symbol that is not a
/// blank look-alike (marks alone, like a lone U+0301, do not count).
fn is_visible(c: char) -> bool {
    let ink = matches!(
        c.general_category_group(),
        GeneralCategoryGroup::Letter
            | GeneralCategoryGroup::Number
            | GeneralCategoryGroup::Punctuation
            | GeneralCategoryGroup::Symbol
    ) || matches!(
        c.general_category(),
        GeneralCategory::PrivateUse | GeneralCategory::Unassigned
    );
    ink && !BLANK_LOOKALIKES.contains(&c)
}

/// Trims, NFC-normalises and checks `raw`; at most `max` characters.
pub fn clean(raw: &str, max: usize) -> Result<String, TextRefusal> {
    let text: String = raw.trim().nfc().collect();
    if let Some(c) = text.chars().find(|&c| is_invisible(c)) {
        return Err(TextRefusal::Invisible(c));
    }
    if !text.chars().any(is_visible) {
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
            "\u{3164}",
            "\u{115f}",
            "\u{ffa0}",
            "\u{2800}",
            "\u{ad}",
            "\u{34f}",
            "\u{180e}",
            "\u{fe0f}",
            "\u{301}",
            "\u{e0001}",
            "王\u{e0020}",
            "\u{1d173}",
            "王\u{fff9}明",
            "王\u{61c}明",
            "王\u{2028}明",
            "王\u{2029}明",
            "\u{fffc}",
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
