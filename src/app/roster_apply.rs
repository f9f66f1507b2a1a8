//! Applying a parsed roster (see `roster`): members now for registered phones, waiting
//! lines for the others, applied when they register.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;

use super::org::OrgRefusal;
use super::roster::{Line, LineError};
use crate::auth::scope::AdminScope;
use crate::db::schema::{memberships, users};
use crate::db::DbConnection;
use crate::domain::audit::{self, Audit};
use crate::domain::ids::{UnionId, UserId};
use crate::domain::membership::{self as ms, MembershipError};
use crate::domain::notifications::{self, NewNotification, NotificationKind};
use crate::domain::phone::Phone;
use crate::domain::profile::Role;
use crate::domain::roster::{self, Entry};
use crate::domain::voucher_code::VoucherKeys;

/// What an import did (or, for a dry run or a file with errors, would do).
#[derive(Debug, Default, Serialize)]
pub struct Outcome {
    pub dry_run: bool,
    /// False for a dry run and whenever `errors` is not empty: then nothing changed.
    pub applied: bool,
    pub members_added: u64,
    pub waiting_for_registration: u64,
    pub unchanged: u64,
    pub errors: Vec<LineError>,
}

type Known = (UserId, Role, Option<UnionId>);

/// The listed phones that have accounts, with their role and current union.
fn accounts(conn: &mut DbConnection, lines: &[Line]) -> QueryResult<HashMap<String, Known>> {
    let mut known = HashMap::new();
    for chunk in lines.chunks(500) {
        let phones: Vec<&Phone> = chunk.iter().map(|l| &l.phone).collect();
        let rows: Vec<(UserId, Phone, Role, Option<UnionId>)> = users::table
            .left_join(
                memberships::table.on(memberships::user_id
                    .eq(users::id)
                    .and(memberships::ended_at.is_null())),
            )
            .filter(users::phone.eq_any(phones))
            .select((
                users::id,
                users::phone,
                users::role,
                memberships::union_id.nullable(),
            ))
            .load(conn)?;
        for (id, phone, role, union) in rows {
            known.insert(phone.as_str().to_owned(), (id, role, union));
        }
    }
    Ok(known)
}

/// A membership from the roster, announced to the worker and audited.
fn open(
    conn: &mut DbConnection,
    actor: Option<&UserId>,
    user: &UserId,
    union: &UnionId,
    since: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<(), MembershipError> {
    let m = ms::open(conn, user, union, since, now)?;
    let name = ms::union_name(conn, union)?;
    let n = NewNotification {
        user,
        kind: NotificationKind::MembershipApproved,
        title: "已登记为工会会员".to_owned(),
        body: format!("{name}已将您登记为会员（名册导入），会员号 {}。", m.member_no),
        voucher: None,
        campaign: None,
    };
    notifications::notify(conn, n, now)?;
    let entry = Audit::new(
        actor.map(UserId::as_str),
        "membership.imported",
        "user",
        user.as_str(),
    )
    .union(union)
    .data(json!({"membership_id": m.id}));
    Ok(audit::record(conn, entry, now)?)
}

/// The import's decisions, inside `run`'s transaction.
fn import(
    conn: &mut DbConnection,
    scope: &AdminScope,
    keys: &VoucherKeys,
    union: &UnionId,
    lines: &[Line],
    mut errors: Vec<LineError>,
    now: NaiveDateTime,
) -> Result<Outcome, OrgRefusal> {
    scope.union(conn, union)?;
    let known = accounts(conn, lines)?;
    let today = crate::domain::civil::start_of(crate::domain::civil::date_of(now));
    let mut out = Outcome::default();
    for l in lines {
        let mut refuse = |message: String| {
            errors.push(LineError {
                line: l.line,
                message,
            })
        };
        match known.get(l.phone.as_str()) {
            Some((_, role, _)) if *role != Role::Worker => {
                refuse("该手机号是工作人员账号，不能作为会员导入".into())
            }
            Some((_, _, Some(u))) if u == union => out.unchanged += 1,
            Some((_, _, Some(other))) => {
                let name = ms::union_name(conn, other)?;
                refuse(format!("已是{name}的会员，请通过转会办理"));
            }
            Some((id, _, None)) => {
                let since = l.member_since.unwrap_or(today);
                // A savepoint: a lost race with another join must not abort the import's
                // transaction (PostgreSQL ends a transaction at its first failed statement).
                match conn.transaction(|c| open(c, Some(scope.user()), id, union, since, now)) {
                    Ok(()) => out.members_added += 1,
                    Err(MembershipError::Database(e)) => return Err(e.into()),
                    Err(_) => refuse("该职工刚刚入会，请重新导入".into()),
                }
            }
            None => {
                let tag = roster::phone_tag(keys, &l.phone);
                let old = roster::find(conn, &tag)?;
                let entry = Entry {
                    phone_tag: tag,
                    union_id: union.clone(),
                    name: l.name.clone(),
                    occupation: l.occupation,
                    region_code: l.region_code.clone(),
                    // An empty date keeps the one filed before, so a re-import changes nothing.
                    member_since: l
                        .member_since
                        .or(old.as_ref().map(|o| o.member_since))
                        .unwrap_or(today),
                    created_by: scope.user().clone(),
                    created_at: now,
                };
                match old {
                    Some(old) if old.same_as(&entry) => out.unchanged += 1,
                    Some(old) if &old.union_id != union => {
                        let name = ms::union_name(conn, &old.union_id)?;
                        refuse(format!("已在{name}的名册中等待注册"));
                    }
                    _ => match conn.transaction(|c| roster::put(c, &entry)) {
                        Ok(()) => out.waiting_for_registration += 1,
                        Err(e) if crate::db::is_unique_violation(&e) => {
                            refuse("另一次导入正在登记这个手机号，请稍后重新导入".into());
                        }
                        Err(e) => return Err(e.into()),
                    },
                }
            }
        }
    }
    errors.sort_by_key(|e| e.line);
    let data = json!({
        "lines": lines.len(), "members_added": out.members_added,
        "waiting_for_registration": out.waiting_for_registration, "unchanged": out.unchanged,
    });
    let entry = Audit::new(
        Some(scope.user().as_str()),
        "roster.imported",
        "union",
        union.as_str(),
    )
    .union(union)
    .data(data);
    audit::record(conn, entry, now)?;
    out.errors = errors;
    Ok(out)
}

/// One import to run: the parsed file, and whether it is a dry run.
pub struct Run<'a> {
    pub union: &'a UnionId,
    pub lines: &'a [Line],
    pub errors: Vec<LineError>,
    pub dry_run: bool,
}

/// Why the import's transaction ends other than by committing.
enum Stop {
    /// On purpose: a dry run, or a file with errors (nothing may change).
    RolledBack(Outcome),
    Failed(OrgRefusal),
}

impl From<diesel::result::Error> for Stop {
    fn from(e: diesel::result::Error) -> Self {
        Self::Failed(e.into())
    }
}

/// Runs the import in its own write transaction, committed only for a real run of a
/// file without errors: a file is applied whole or not at all, and a dry run's counts
/// are the real run's.
pub fn run(
    conn: &mut DbConnection,
    scope: &AdminScope,
    keys: &VoucherKeys,
    r: Run<'_>,
    now: NaiveDateTime,
) -> Result<Outcome, OrgRefusal> {
    let result = crate::db::write_tx(conn, |c| {
        let mut out = import(c, scope, keys, r.union, r.lines, r.errors, now).map_err(Stop::Failed)?;
        out.dry_run = r.dry_run;
        if r.dry_run || !out.errors.is_empty() {
            return Err(Stop::RolledBack(out));
        }
        out.applied = true;
        Ok(out)
    });
    match result {
        Ok(out) | Err(Stop::RolledBack(out)) => Ok(out),
        Err(Stop::Failed(e)) => Err(e),
    }
}

/// At registration: the phone's waiting roster line, if any, becomes a membership at
/// once (its `since` from the roster), and fills an occupation or region the worker left
/// empty. Call inside the registration's transaction.
pub fn apply_on_register(
    conn: &mut DbConnection,
    keys: &VoucherKeys,
    phone: &Phone,
    user: &UserId,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let Some(entry) = roster::take(conn, &roster::phone_tag(keys, phone))? else {
        return Ok(());
    };
    if let Some(o) = entry.occupation {
        diesel::update(users::table.find(user).filter(users::occupation.is_null()))
            .set(users::occupation.eq(o))
            .execute(conn)?;
    }
    if let Some(r) = &entry.region_code {
        diesel::update(users::table.find(user).filter(users::region_code.is_null()))
            .set(users::region_code.eq(r))
            .execute(conn)?;
    }
    match conn.transaction(|c| open(c, None, user, &entry.union_id, entry.member_since, now)) {
        Ok(()) | Err(MembershipError::AlreadyMember) => Ok(()),
        Err(MembershipError::Database(e)) => Err(e),
        Err(_) => Ok(()),
    }
}
