//! Campaign eligibility rules and their evaluation. Every unmet condition is reported,
//! each with a stable code and a message a worker understands.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::domain::ids::UnionId;
use crate::domain::profile::Occupation;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    MembershipRequired {},
    MemberOf { union_id: UnionId },
    OccupationIn { values: Vec<Occupation> },
    OccupationVerified {},
    RegionIn { values: Vec<String> },
    HardshipArchived {},
    MemberSinceBefore { date: NaiveDate },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub code: &'static str,
    pub message: String,
}

impl Reason {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Checks what serde cannot: non-empty lists, region prefixes of 2–6 digits.
pub fn validate(rules: &[Rule]) -> Result<(), String> {
    if rules.len() > 20 {
        return Err("rules: at most 20 conditions".into());
    }
    for rule in rules {
        match rule {
            Rule::OccupationIn { values } if values.is_empty() => {
                return Err("rules: occupation_in needs at least one value".into())
            }
            Rule::RegionIn { values } if values.is_empty() => {
                return Err("rules: region_in needs at least one value".into())
            }
            Rule::RegionIn { values } => {
                if let Some(bad) = values
                    .iter()
                    .find(|v| !(2..=6).contains(&v.len()) || !v.bytes().all(|b| b.is_ascii_digit()))
                {
                    return Err(format!("rules: region_in value {bad:?} must be 2-6 digits"));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// What the rules look at, gathered once per evaluation.
#[derive(Debug, Clone)]
pub struct WorkerFacts {
    pub occupation: Option<Occupation>,
    pub occupation_verified: bool,
    pub region_code: Option<String>,
    pub hardship_archived: bool,
    pub membership: Option<MemberFacts>,
}

#[derive(Debug, Clone)]
pub struct MemberFacts {
    /// The materialised path of the member's union ("/root/…/union/").
    pub union_path: String,
    pub since: NaiveDateTime,
}

/// A union a `member_of` rule names, resolved for evaluation.
#[derive(Debug, Clone)]
pub struct NamedUnion {
    pub id: UnionId,
    pub name: String,
    pub path: String,
}

fn occupation_label(o: Occupation) -> &'static str {
    match o {
        Occupation::Courier => "快递员",
        Occupation::FoodDelivery => "外卖配送员",
        Occupation::RideHailing => "网约车司机",
        Occupation::TruckDriver => "货车司机",
        Occupation::Sanitation => "环卫工人",
        Occupation::Domestic => "家政服务员",
        Occupation::Other => "其他职业",
    }
}

/// Every rule the worker does not meet, in the order the rules are listed.
pub fn unmet(rules: &[Rule], worker: &WorkerFacts, unions: &[NamedUnion]) -> Vec<Reason> {
    rules
        .iter()
        .filter_map(|rule| check(rule, worker, unions))
        .collect()
}

fn check(rule: &Rule, w: &WorkerFacts, unions: &[NamedUnion]) -> Option<Reason> {
    match rule {
        Rule::MembershipRequired {} => w
            .membership
            .is_none()
            .then(|| Reason::new("NOT_A_MEMBER", "本活动仅限工会会员参加，请先申请入会")),
        Rule::MemberOf { union_id } => {
            let target = unions.iter().find(|u| &u.id == union_id);
            let inside = match (target, &w.membership) {
                (Some(t), Some(m)) => m.union_path.starts_with(&t.path),
                _ => false,
            };
            let name = target.map_or("指定工会", |t| t.name.as_str());
            (!inside).then(|| Reason::new("NOT_IN_UNION", format!("本活动仅限{name}及下属工会的会员参加")))
        }
        Rule::OccupationIn { values } => {
            let covered = w.occupation.is_some_and(|o| values.contains(&o));
            let labels: Vec<&str> = values.iter().map(|o| occupation_label(*o)).collect();
            (!covered).then(|| {
                Reason::new(
                    "OCCUPATION_NOT_COVERED",
                    format!("本活动面向{}", labels.join("、")),
                )
            })
        }
        Rule::OccupationVerified {} => (!w.occupation_verified).then(|| {
            Reason::new(
                "OCCUPATION_NOT_VERIFIED",
                "您的职业身份尚未认证，请到工会驿站或通过合作平台认证",
            )
        }),
        Rule::RegionIn { values } => {
            let covered = w
                .region_code
                .as_deref()
                .is_some_and(|code| values.iter().any(|prefix| code.starts_with(prefix.as_str())));
            (!covered).then(|| {
                Reason::new(
                    "REGION_NOT_COVERED",
                    format!("本活动仅限指定地区（{}）的职工参加", values.join("、")),
                )
            })
        }
        Rule::HardshipArchived {} => {
            (!w.hardship_archived).then(|| Reason::new("NOT_HARDSHIP_ARCHIVED", "本活动仅面向在档困难职工"))
        }
        Rule::MemberSinceBefore { date } => {
            let early = w.membership.as_ref().is_some_and(|m| m.since.date() < *date);
            (!early).then(|| {
                Reason::new(
                    "MEMBERSHIP_TOO_RECENT",
                    format!("本活动仅限{}前入会的会员参加", date.format("%Y年%-m月%-d日")),
                )
            })
        }
    }
}

/// The unions `member_of` rules name.
pub fn named_unions(rules: &[Rule]) -> Vec<UnionId> {
    rules
        .iter()
        .filter_map(|r| match r {
            Rule::MemberOf { union_id } => Some(union_id.clone()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stranger() -> WorkerFacts {
        WorkerFacts {
            occupation: Some(Occupation::Sanitation),
            occupation_verified: false,
            region_code: Some("330102".into()),
            hardship_archived: false,
            membership: None,
        }
    }

    #[test]
    fn lists_every_unmet_condition() {
        let rules: Vec<Rule> = serde_json::from_str(
            r#"[{"type":"membership_required"},{"type":"occupation_in","values":["courier","food_delivery"]},
                {"type":"region_in","values":["3310"]},{"type":"occupation_verified"}]"#,
        )
        .unwrap();
        let codes: Vec<&str> = unmet(&rules, &stranger(), &[]).iter().map(|r| r.code).collect();
        assert_eq!(
            codes,
            [
                "NOT_A_MEMBER",
                "OCCUPATION_NOT_COVERED",
                "REGION_NOT_COVERED",
                "OCCUPATION_NOT_VERIFIED"
            ]
        );
    }

    #[test]
    fn unknown_rule_types_and_fields_are_refused() {
        assert!(serde_json::from_str::<Rule>(r#"{"type":"age_over","value":18}"#).is_err());
        assert!(serde_json::from_str::<Rule>(r#"{"type":"hardship_archived","x":1}"#).is_err());
        assert!(serde_json::from_str::<Rule>(r#"{"type":"occupation_in","values":["pilot"]}"#).is_err());
        assert!(validate(&[Rule::RegionIn {
            values: vec!["33a".into()]
        }])
        .is_err());
    }

    #[test]
    fn member_since_and_member_of() {
        let mut w = stranger();
        w.membership = Some(MemberFacts {
            union_path: "/city/luqiao/".into(),
            since: NaiveDate::from_ymd_opt(2025, 6, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
        });
        let city = UnionId::generate();
        let named = [NamedUnion {
            id: city.clone(),
            name: "台州市总工会".into(),
            path: "/city/".into(),
        }];
        let rules = vec![
            Rule::MemberOf { union_id: city },
            Rule::MemberSinceBefore {
                date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            },
        ];
        assert!(unmet(&rules, &w, &named).is_empty());
        let late = vec![Rule::MemberSinceBefore {
            date: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        }];
        assert_eq!(
            unmet(&late, &w, &named)[0].message,
            "本活动仅限2025年1月1日前入会的会员参加"
        );
    }
}
