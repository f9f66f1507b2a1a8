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
            serde::de::Error::custom("region_code must be a 6-digit administrative division code")
        })
    }
}

/// A display name: trimmed, 1–40 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Option<Self> {
        let name = raw.trim();
        let len = name.chars().count();
        let ok = (1..=40).contains(&len) && !name.chars().any(char::is_control);
        ok.then(|| Self(name.to_owned()))
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

impl<'de> Deserialize<'de> for PersonName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).ok_or_else(|| serde::de::Error::custom("name must be 1-40 characters"))
    }
}

/// A password as typed: 8–128 characters (the upper bound keeps hashing cheap to refuse).
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
        match raw.chars().count() {
            8..=128 => Ok(Self(raw)),
            _ => Err("password must be 8-128 characters"),
        }
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Free text with a length bound (employer, addresses, reasons).
pub fn bounded_text(raw: &str, max_chars: usize) -> Option<String> {
    let text = raw.trim();
    let ok = !text.is_empty() && text.chars().count() <= max_chars && !text.chars().any(char::is_control);
    ok.then(|| text.to_owned())
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
    }
}
