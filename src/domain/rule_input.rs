//! Reading a campaign rule from JSON with the exact path of what is wrong in it.

use chrono::NaiveDate;
use serde::Deserialize;

use super::ids::UnionId;
use super::profile::Occupation;
use super::rules::Rule;
use super::wishes::WishCategory;

/// A rule as sent. serde reads internally tagged enums through a buffer that forgets
/// where inside a rule a value went wrong; this reads the tag, then the rest as an
/// externally tagged enum that keeps the path, so `rules[2].values` is named exactly.
#[derive(Deserialize)]
pub struct RuleInput(serde_json::Map<String, serde_json::Value>);

/// The same conditions, externally tagged (`{"region_in": {"values": [...]}}`).
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum RuleShape {
    MembershipRequired {},
    MemberOf { union_id: UnionId },
    OccupationIn { values: Vec<Occupation> },
    OccupationVerified {},
    RegionIn { values: Vec<String> },
    HardshipArchived {},
    MemberSinceBefore { date: NaiveDate },
    Wished { category: WishCategory },
}

/// Separates a field path inside a rule from the message in a serde error, for
/// `http::serde_text` to join to the rule's own path.
pub const PATH_SEPARATOR: char = '\u{1f}';

impl TryFrom<RuleInput> for Rule {
    type Error = String;
    fn try_from(RuleInput(mut fields): RuleInput) -> Result<Self, String> {
        let tag = match fields.remove("type") {
            Some(serde_json::Value::String(t)) => t,
            Some(_) => return Err(format!("type{PATH_SEPARATOR}类型不正确，应为文本")),
            None => return Err(format!("type{PATH_SEPARATOR}缺少此必填项")),
        };
        let shaped = serde_json::Value::Object(std::iter::once((tag.clone(), fields.into())).collect());
        let shape: RuleShape = serde_path_to_error::deserialize(shaped).map_err(|e| {
            let path = e.path().to_string();
            let inner = path
                .strip_prefix(tag.as_str())
                .unwrap_or("")
                .trim_start_matches('.');
            let message = e.into_inner().to_string();
            // An unknown tag is reported on `type` itself.
            let field = if inner.is_empty() && message.starts_with("unknown variant") {
                "type"
            } else {
                inner
            };
            format!("{field}{PATH_SEPARATOR}{message}")
        })?;
        Ok(match shape {
            RuleShape::MembershipRequired {} => Self::MembershipRequired {},
            RuleShape::MemberOf { union_id } => Self::MemberOf { union_id },
            RuleShape::OccupationIn { values } => Self::OccupationIn { values },
            RuleShape::OccupationVerified {} => Self::OccupationVerified {},
            RuleShape::RegionIn { values } => Self::RegionIn { values },
            RuleShape::HardshipArchived {} => Self::HardshipArchived {},
            RuleShape::MemberSinceBefore { date } => Self::MemberSinceBefore { date },
            RuleShape::Wished { category } => Self::Wished { category },
        })
    }
}
