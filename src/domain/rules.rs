//! Campaign eligibility rules and their evaluation. Every unmet condition is reported,
//! each with a stable code and a message a worker understands.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::domain::civil;
use crate::domain::ids::UnionId;
use crate::domain::invalid::Invalid;
use crate::domain::profile::Occupation;
pub use crate::domain::rule_input::PATH_SEPARATOR;
use crate::domain::wishes::WishCategory;

/// One condition of a campaign's `rules`, written `{"type": "region_in", "values": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[serde(try_from = "super::rule_input::RuleInput")]
pub enum Rule {
    MembershipRequired {},
    MemberOf {
        union_id: UnionId,
    },
    OccupationIn {
        values: Vec<Occupation>,
    },
    OccupationVerified {},
    RegionIn {
        values: Vec<String>,
    },
    HardshipArchived {},
    MemberSinceBefore {
        date: NaiveDate,
    },
    /// Workers with an open micro-wish (微心愿) of this category.
    Wished {
        category: WishCategory,
    },
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

/// Checks what serde cannot: non-empty lists, region prefixes of 2–6 digits. The
/// refusal names the path, e.g. `rules[2].values[0]`.
pub fn validate(rules: &[Rule]) -> Result<(), Invalid> {
    if rules.len() > 20 {
        return Err(Invalid::new("rules", "最多 20 个条件"));
    }
    for (i, rule) in rules.iter().enumerate() {
        let at = |field: &str| format!("rules[{i}].{field}");
        match rule {
            Rule::OccupationIn { values } if values.is_empty() => {
                return Err(Invalid::new(at("values"), "至少选择一个职业"))
            }
            Rule::RegionIn { values } if values.is_empty() => {
                return Err(Invalid::new(at("values"), "至少填写一个地区代码"))
            }
            Rule::RegionIn { values } => {
                if let Some(j) = values
                    .iter()
                    .position(|v| !(2..=6).contains(&v.len()) || !v.bytes().all(|b| b.is_ascii_digit()))
                {
                    return Err(Invalid::new(
                        format!("rules[{i}].values[{j}]"),
                        "地区代码应为 2 到 6 位数字（如 3310 表示台州市）",
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The place a region prefix names, from GB/T 2260 (`3301` → 杭州市, `33` → 浙江省);
/// the code itself where the table does not know it.
pub fn region_name(prefix: &str) -> String {
    let code = format!("{prefix:0<6}");
    gb2260::Division::get(&code)
        .or_else(|| gb2260::Division::search(&code))
        .map_or_else(|| format!("地区 {prefix}"), |d| d.name.to_owned())
}

/// What the rules look at, gathered once per evaluation.
#[derive(Debug, Clone)]
pub struct WorkerFacts {
    pub occupation: Option<Occupation>,
    pub occupation_verified: bool,
    pub region_code: Option<String>,
    pub hardship_archived: bool,
    pub membership: Option<MemberFacts>,
    /// A join application awaits a decision (told apart from "never applied").
    pub application_pending: bool,
    /// The categories of the worker's open micro-wishes.
    pub open_wishes: Vec<WishCategory>,
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

/// An occupation as people read it.
pub fn occupation_label(o: Occupation) -> &'static str {
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
        Rule::MembershipRequired {} => w.membership.is_none().then(|| {
            let message = if w.application_pending {
                "本活动仅限工会会员参加，您的入会申请正在审核中，通过后即可领取"
            } else {
                "本活动仅限工会会员参加，请先申请入会"
            };
            Reason::new("NOT_A_MEMBER", message)
        }),
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
                let message = match w.occupation {
                    None => format!(
                        "本活动面向{}，您尚未填写职业，请在“我的”中补充",
                        labels.join("、")
                    ),
                    Some(o) => format!(
                        "本活动面向{}，您登记的职业是{}",
                        labels.join("、"),
                        occupation_label(o)
                    ),
                };
                Reason::new("OCCUPATION_NOT_COVERED", message)
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
                let places: Vec<String> = values.iter().map(|v| region_name(v)).collect();
                let yours = match w.region_code.as_deref() {
                    None => "，您尚未填写所在地区".to_owned(),
                    Some(code) => format!("，您登记的地区是{}", region_name(code)),
                };
                Reason::new(
                    "REGION_NOT_COVERED",
                    format!("本活动仅限{}的职工参加{yours}", places.join("、")),
                )
            })
        }
        Rule::HardshipArchived {} => {
            (!w.hardship_archived).then(|| Reason::new("NOT_HARDSHIP_ARCHIVED", "本活动仅面向在档困难职工"))
        }
        Rule::Wished { category } => (!w.open_wishes.contains(category)).then(|| {
            Reason::new(
                "NO_MATCHING_WISH",
                format!(
                    "本活动面向提出了“{}”类微心愿的职工，您目前没有这类未实现的心愿",
                    category.label()
                ),
            )
        }),
        Rule::MemberSinceBefore { date } => {
            // A civil date: membership must have begun before that day's 00:00 北京时间.
            let early = w
                .membership
                .as_ref()
                .is_some_and(|m| m.since < civil::start_of(*date));
            (!early).then(|| {
                Reason::new(
                    "MEMBERSHIP_TOO_RECENT",
                    format!("本活动仅限{}前入会的会员参加", date.format("%Y年%-m月%-d日")),
                )
            })
        }
    }
}

/// Whether any rule looks at the worker's open micro-wishes (they are read only then).
pub fn reads_wishes(rules: &[Rule]) -> bool {
    rules.iter().any(|r| matches!(r, Rule::Wished { .. }))
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
            application_pending: false,
            open_wishes: Vec::new(),
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
