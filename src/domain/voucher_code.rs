//! Voucher codes: 16 Crockford-base32 characters (80 bits) shown as
//! `XXXX-XXXX-XXXX-XXXX`, derived from the voucher id with a server key. The database
//! keeps only a keyed hash of each code, so a dump redeems nothing and the wallet can
//! still show the code by deriving it again.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::domain::ids::VoucherId;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_LEN: usize = 16;
const QR_PREFIX: &str = "zhijian:v1:";

/// What a person or a scanner may put between or around a code's characters: whitespace
/// of any kind, every dash Unicode knows (`Pd`, the minus sign, the soft hyphen, the
/// hyphen bullet, the katakana long-vowel mark an IME may give for "-"), and invisible
/// characters (zero-width, BOM, bidi and other format controls).
fn ignorable(c: char) -> bool {
    c.is_whitespace()
        || c.general_category() == GeneralCategory::DashPunctuation
        || matches!(c, '_' | '\u{AD}' | '\u{2043}' | '\u{2212}' | '\u{30FC}')
        || crate::domain::text::is_invisible(c)
}

/// A well-formed code, normalised (upper case, no separators).
#[derive(Clone, PartialEq, Eq)]
pub struct VoucherCode(String);

impl VoucherCode {
    /// Accepts a code however a keyboard, an input method or a scanner typed it
    /// (contract v1.1, "Voucher code input"): full-width forms folded by NFKC, any case,
    /// any whitespace, hyphen or dash, zero-width characters and BOMs ignored anywhere,
    /// Crockford's I/L → 1 and O → 0, and the QR payload with its prefix in any case.
    pub fn parse(input: &str) -> Option<Self> {
        let folded: String = input
            .nfkc()
            .filter(|&c| !ignorable(c))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let upper_prefix = QR_PREFIX.to_ascii_uppercase();
        let raw = folded.strip_prefix(upper_prefix.as_str()).unwrap_or(&folded);
        let mut code = String::with_capacity(CODE_LEN);
        for c in raw.chars() {
            let c = match c {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            let in_alphabet = u8::try_from(c).is_ok_and(|b| ALPHABET.contains(&b));
            if !in_alphabet || code.len() == CODE_LEN {
                return None;
            }
            code.push(c);
        }
        (code.len() == CODE_LEN).then_some(Self(code))
    }

    /// `XXXX-XXXX-XXXX-XXXX`
    pub fn display(&self) -> String {
        let c = &self.0;
        format!("{}-{}-{}-{}", &c[0..4], &c[4..8], &c[8..12], &c[12..16])
    }

    /// What the QR code encodes.
    pub fn qr_payload(&self) -> String {
        format!("{QR_PREFIX}{}", self.0)
    }
}

/// Read as `parse` reads input; a malformed code names the field's format.
impl<'de> serde::Deserialize<'de> for VoucherCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).ok_or_else(|| {
            serde::de::Error::custom("券码应为 16 位字母和数字（XXXX-XXXX-XXXX-XXXX），或扫描券上的二维码")
        })
    }
}

/// Written in its display form, so two spellings of one code serialise (and so
/// fingerprint) alike.
impl serde::Serialize for VoucherCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.display())
    }
}

// Codes are bearer secrets: keep them out of logs.
impl fmt::Debug for VoucherCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VoucherCode(****)")
    }
}

/// The server key codes are derived and hashed with.
#[derive(Clone)]
pub struct VoucherKeys {
    key: Vec<u8>,
}

impl VoucherKeys {
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    fn mac(&self, label: &str, data: &str) -> [u8; 32] {
        // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.key) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(label.as_bytes());
        mac.update(data.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The code of a voucher: the first 80 bits of HMAC(key, id) in Crockford base32.
    pub fn code_for(&self, voucher: &VoucherId) -> VoucherCode {
        let digest = self.mac("code:", voucher.as_str());
        let bits = digest[..10]
            .iter()
            .fold(0u128, |acc, b| (acc << 8) | u128::from(*b));
        let code = (0..CODE_LEN)
            .rev()
            .map(|i| {
                // Five bits index the 32-letter alphabet.
                let index = usize::from(u8::try_from((bits >> (i * 5)) & 31).unwrap_or(0));
                char::from(ALPHABET[index])
            })
            .collect();
        VoucherCode(code)
    }

    /// A secret derived from the server key for `label` + `value` (e.g. a webhook
    /// endpoint's signing key): computed again whenever needed, never stored.
    pub fn derive(&self, label: &str, value: &str) -> [u8; 32] {
        self.mac(label, value)
    }

    /// A keyed hash of another short secret (`label` keeps uses apart), e.g. a join
    /// code: with only 10^8 values it must not be stored under a plain hash.
    pub fn tag(&self, label: &str, value: &str) -> String {
        hex::encode(self.mac(label, value))
    }

    /// What the database stores and looks codes up by.
    pub fn lookup_hash(&self, code: &VoucherCode) -> String {
        hex::encode(self.mac("lookup:", &code.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_every_spelling() {
        let keys = VoucherKeys::new(b"test-key");
        let id = VoucherId::generate();
        let code = keys.code_for(&id);
        let shown = code.display();
        assert_eq!(shown.len(), 19);
        for spelling in [
            shown.clone(),
            shown.to_lowercase(),
            shown.replace('-', " "),
            code.qr_payload(),
            code.qr_payload().to_uppercase(),
            format!("{shown}\r\n"),
            format!("\u{feff}{}\t", shown.replace('-', "\u{3000}")),
            shown.replace('-', "\u{2014}").replace('0', "O").replace('1', "l"),
            shown
                .chars()
                .map(|c| {
                    char::from_u32(u32::from(c) + 0xFEE0)
                        .filter(|_| c.is_ascii_alphanumeric())
                        .unwrap_or(c)
                })
                .collect(),
            shown.chars().flat_map(|c| [c, '\u{200b}']).collect(),
            shown.replace('-', "\u{ad}"),
            shown.replace('-', "\u{301c}"),
            shown.replace('-', "\u{2e3a}"),
            shown.replace('-', "\u{58a}"),
            shown.replace('-', "\u{1806}"),
            shown.replace('-', "\u{2043}"),
            shown.replace('-', "\u{180e}"),
        ] {
            assert_eq!(VoucherCode::parse(&spelling), Some(code.clone()), "{spelling}");
        }
        assert_eq!(keys.code_for(&id), code, "derivation is stable");
        assert_ne!(VoucherKeys::new(b"other").code_for(&id), code);
    }

    #[test]
    fn malformed_codes_are_refused() {
        for bad in [
            "",
            "ABCD",
            "ABCD-EFGH-JKMN-PQRSU",
            "ABCD-EFGH-JKMN-PQRU",
            "ABCD-EFGH-JKMN-PQR!",
            "中文中文中文中文中文中文中文中文",
        ] {
            assert!(VoucherCode::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(
            VoucherCode::parse("oooo-iiii-llll-0000").unwrap().display(),
            "0000-1111-1111-0000"
        );
    }
}
