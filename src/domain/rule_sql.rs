//! A campaign's rules as one SQL condition over the worker's row, so that an eligible
//! worker's claim is decided and written in one statement (`claim_statement::first`).
//!
//! The Rust evaluator (`rules::unmet`) stays the authority for the reasons a worker is
//! told; this condition must admit exactly the workers it finds nothing against. Each
//! arm below mirrors one arm of `rules::check`, and `tests/rule_sql.rs` compares the two
//! for every rule type over workers that differ in every fact, on both backends.

use chrono::NaiveDateTime;
use diesel::sql_types::Integer;
use diesel::QueryResult;
use diesel::QueryableByName;

use crate::db::fixed::{Bind, Fixed};
use crate::db::DbConnection;
use crate::domain::civil;
use crate::domain::ids::UserId;
use crate::domain::rules::Rule;
use crate::domain::wishes::WishStatus;

/// A value the condition binds, in placeholder order.
#[derive(Debug, Clone)]
enum Value {
    Text(String),
    Time(NaiveDateTime),
}

/// The condition (portable SQL over `users` aliased `u`, one `?` per value) and its values.
#[derive(Debug, Clone)]
pub struct RuleSql {
    condition: String,
    values: Vec<Value>,
}

/// The worker's current membership (at most one: `memberships_one_active`).
const CURRENT: &str = "SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.ended_at IS NULL";

impl RuleSql {
    /// The condition every rule of `rules` holds under, `TRUE` for none.
    pub fn compile(rules: &[Rule]) -> Self {
        let mut values = Vec::new();
        let mut parts: Vec<String> = rules.iter().map(|rule| arm(rule, &mut values)).collect();
        if parts.is_empty() {
            parts.push("TRUE".into());
        }
        Self {
            condition: parts.join(" AND "),
            values,
        }
    }

    /// The condition's text, to be placed inside a statement where `u` is the worker.
    pub fn condition(&self) -> &str {
        &self.condition
    }

    /// The condition's binds, in order.
    pub fn binds(&self) -> impl Iterator<Item = Bind<'_>> {
        self.values.iter().map(|v| match v {
            Value::Text(t) => Bind::Text(t),
            Value::Time(t) => Bind::Time(*t),
        })
    }

    /// Whether `user` meets the rules now, by the condition alone (on either backend).
    /// `false` for a user who does not exist.
    pub fn holds_for(&self, conn: &mut DbConnection, user: &UserId) -> QueryResult<bool> {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = Integer)]
            n: i32,
        }
        let sql = format!(
            "SELECT CAST(COUNT(*) AS INTEGER) AS n FROM users u WHERE u.id = ? AND ({})",
            self.condition
        );
        let mut binds = vec![Bind::Text(user.as_str())];
        binds.extend(self.binds());
        let row: Count = Fixed::new(&sql, binds).get_result_on(conn)?;
        Ok(row.n > 0)
    }
}

/// One rule's condition; its values are pushed onto `values`. Every text placed in the
/// SQL itself is either a constant here or a count: whatever a campaign says is bound.
fn arm(rule: &Rule, values: &mut Vec<Value>) -> String {
    let mut bind = |v: Value| {
        values.push(v);
        "?"
    };
    match rule {
        Rule::MembershipRequired {} => format!("EXISTS ({CURRENT})"),
        // The current membership's union lies under the named one (its path starts with
        // that union's path); a union that does not exist admits no one.
        Rule::MemberOf { union_id } => format!(
            "EXISTS (SELECT 1 FROM memberships m JOIN unions mu ON mu.id = m.union_id \
             JOIN unions t ON t.id = {} WHERE m.user_id = u.id AND m.ended_at IS NULL \
             AND substr(mu.path, 1, length(t.path)) = t.path)",
            bind(Value::Text(union_id.as_str().to_owned()))
        ),
        // `IN` is NULL for a worker with no occupation: false, as in `rules::check`.
        // An empty list (refused when rules are written, but readable) admits no one, as in
        // `rules::check`; `IN ()` and `()` are not SQL.
        Rule::OccupationIn { values } if values.is_empty() => "FALSE".into(),
        Rule::RegionIn { values } if values.is_empty() => "FALSE".into(),
        Rule::OccupationIn { values: occupations } => {
            let list: Vec<&str> = occupations
                .iter()
                .map(|o| bind(Value::Text(o.as_str().to_owned())))
                .collect();
            format!("u.occupation IN ({})", list.join(", "))
        }
        Rule::OccupationVerified {} => "u.occupation_verified".into(),
        Rule::HardshipArchived {} => "u.hardship_archived".into(),
        // A prefix of 2–6 digits (`rules::validate`); `substr` compares it exactly, where
        // `LIKE` would treat `_` and `%` as patterns and ignore case on SQLite.
        Rule::RegionIn { values: prefixes } => {
            let any: Vec<String> = prefixes
                .iter()
                .map(|p| {
                    let len = p.chars().count();
                    format!(
                        "substr(u.region_code, 1, {len}) = {}",
                        bind(Value::Text(p.clone()))
                    )
                })
                .collect();
            format!("({})", any.join(" OR "))
        }
        Rule::MemberSinceBefore { date } => format!(
            "EXISTS ({CURRENT} AND m.since < {})",
            bind(Value::Time(civil::start_of(*date)))
        ),
        Rule::Wished { category } => format!(
            "EXISTS (SELECT 1 FROM wishes w WHERE w.user_id = u.id AND w.status = '{}' AND w.category = {})",
            WishStatus::Open.as_str(),
            bind(Value::Text(category.as_str().to_owned()))
        ),
    }
}
