//! Worker profile values: roles, occupations, region codes, names.

use serde::{Deserialize, Serialize};

crate::text_enum!(
    /// Who a principal is; every route checks it. Stored in `users.role`.
    pub enum Role {
        Worker => "worker",
        Counter => "counter",
        UnionAdmin => "union_admin",
        PlatformAdmin => "platform_admin",
    }
);

crate::text_enum!(
    /// The brief's occupation codes. Stored in `users.occupation`.
    pub enum Occupation {
        Courier => "courier",
        FoodDelivery => "food_delivery",
        RideHailing => "ride_hailing",
        TruckDriver => "truck_driver",
        Sanitation => "sanitation",
        Domestic => "domestic",
        Other => "other",
    }
);

/// A 6-digit GB/T 2260 administrative division code, e.g. `331004` (台州市路桥区).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct RegionCode(String);

impl RegionCode {
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = raw.len() == 6 && raw.bytes().all(|b| b.is_ascii_digit()) && !raw.starts_with('0');
        ok.then(|| Self(raw.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

impl<'de> Deserialize<'de> for RegionCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).ok_or_else(|| {
            serde::de::Error::custom("地区代码应为 6 位行政区划代码（如 331004 台州市路桥区）")
        })
    }
}

/// A display name (person, union, station): free text of 1–40 characters, cleaned as
/// `text::clean` does (no invisible characters, NFC).
pub type PersonName = crate::domain::text::FreeText<40>;

/// A password as typed (contract v1.1, "Passwords"): 8–128 characters, not only
/// whitespace, not one character repeated, not on the common-password list. The upper
/// bound keeps hashing cheap to refuse.
#[derive(Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct Password(String);

impl Password {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Password {
    type Error = &'static str;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        let mut chars = raw.chars();
        let first = chars.next();
        if !(8..=128).contains(&raw.chars().count()) {
            return Err("密码长度应为 8 到 128 个字符");
        }
        if raw.chars().all(char::is_whitespace) {
            return Err("密码不能全是空格");
        }
        if chars.all(|c| Some(c) == first) {
            return Err("密码不能是同一个字符重复");
        }
        if passwords::analyzer::is_common_password(&raw)
            || passwords::analyzer::is_common_password(raw.to_lowercase())
        {
            return Err("这个密码太常见，容易被猜中，请换一个");
        }
        Ok(Self(raw))
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_codes_are_six_digits() {
        assert!(RegionCode::parse("331004").is_some());
        for bad in ["3310", "33100a", "0331004", "031004", ""] {
            assert!(RegionCode::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn passwords_have_bounds() {
        assert!(Password::try_from("short".to_string()).is_err());
        assert!(Password::try_from("x".repeat(129)).is_err());
        assert!(Password::try_from("密码密码密码密码".to_string()).is_ok());
        for weak in [
            "12345678",
            "        ",
            "aaaaaaaa",
            "password",
            "Password",
            "qwertyuiop",
        ] {
            assert!(Password::try_from(weak.to_string()).is_err(), "{weak}");
        }
    }
}
