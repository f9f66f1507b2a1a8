//! Mainland mobile numbers, and the masked form staff see.

use std::fmt;

use diesel::sql_types::Text;

/// An 11-digit mainland mobile number (`1[3-9]xxxxxxxxx`). `+86`, spaces and dashes
/// are accepted on input and dropped.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = Text)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Option<Self> {
        let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = digits
            .strip_prefix("+86")
            .or_else(|| digits.strip_prefix("0086"))
            .unwrap_or(&digits);
        let bytes = digits.as_bytes();
        let valid = bytes.len() == 11
            && bytes.iter().all(u8::is_ascii_digit)
            && bytes[0] == b'1'
            && (b'3'..=b'9').contains(&bytes[1]);
        valid.then(|| Self(digits.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `138****5678`: what counter and admin screens show.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

// Never print a full number by accident (logs, panics).
impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

impl<'de> serde::Deserialize<'de> for Phone {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).ok_or_else(|| serde::de::Error::custom("手机号应为 11 位中国大陆手机号码"))
    }
}

crate::text_sql_type!(Phone, Phone::parse);

/// `王*`, `欧阳**`: the first character, the rest starred.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_mainland_mobiles_in_common_spellings() {
        for raw in ["13812345678", "+86 138-1234-5678", "0086 13812345678"] {
            assert_eq!(Phone::parse(raw).map(|p| p.0), Some("13812345678".into()));
        }
    }

    #[test]
    fn rejects_everything_else() {
        for raw in [
            "",
            "1381234567",
            "138123456789",
            "12812345678",
            "23812345678",
            "1381234567x",
        ] {
            assert!(Phone::parse(raw).is_none(), "{raw}");
        }
    }

    #[test]
    fn masks_for_staff() {
        let phone = Phone::parse("13812345678").unwrap();
        assert_eq!(phone.masked(), "138****5678");
        assert_eq!(format!("{phone:?}"), "Phone(138****5678)");
        assert_eq!(mask_name("王小明"), "王**");
        assert_eq!(mask_name("王"), "王");
    }
}
