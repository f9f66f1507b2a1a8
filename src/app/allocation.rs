//! 精准发放: one voucher for every worker of the campaign's union subtree whom its rules
//! admit (contract v1.1, "Allocation, delivery, ratings, wishes").
//!
//! Publishing checks, in its own transaction, that the stock covers everyone admitted
//! (else 409 `STOCK_INSUFFICIENT`, nothing issued) and marks the allocation pending; the
//! vouchers then go out a page of members at a time, each page one short transaction with
//! its vouchers, stock, notifications, webhook events and audit entries. The unique key
//! `(campaign_id, user_id, claim_no)` is what makes every pass safe to repeat: after a
//! crash half-way, a retry (or the jobs) issues only what is missing; two concurrent
//! top-ups issue each missing voucher once.

use chrono::NaiveDateTime;
use serde_json::json;

use super::{changes, notices};
use crate::auth::scope::ScopeError;
use crate::db::{self, DbConnection};
use crate::domain::allocation;
use crate::domain::campaigns::{self, Campaign, CampaignMode, CampaignStatus};
use crate::domain::eligibility::{self, MEMBER_PAGE};
use crate::domain::ids::{CampaignId, UserId};
use crate::domain::rules::{self, NamedUnion, Rule};
use crate::domain::voucher_code::VoucherKeys;
use crate::domain::{org, releases, stock};

/// Why an allocation (at publication or a top-up) is refused.
#[derive(Debug, thiserror::Error)]
pub enum AllocationRefusal {
    /// More workers admitted (and not yet allocated) than units left. `allocated` is what
    /// the pass had issued before it stopped (0 when the check before it refused).
    #[error("stock insufficient: {admitted} admitted, {available} available")]
    StockInsufficient {
        admitted: i64,
        available: i64,
        allocated: i64,
    },
    /// Not an allocate campaign, or not published; says why.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(transparent)]
    Scope(#[from] ScopeError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// How the passes run: members per batch (`ALLOCATION_BATCH_SIZE`), and the fault the
/// crash test injects (`FAULT_ABORT_AFTER_ALLOCATION_BATCHES`: abort the process right
/// after that many batches committed; unset in service).
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub batch_size: i64,
    pub abort_after_batches: Option<u32>,
}

impl Default for Plan {
    fn default() -> Self {
        Self {
            batch_size: MEMBER_PAGE,
            abort_after_batches: None,
        }
    }
}

/// What a pass did.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Allocated {
    /// Vouchers this pass issued.
    pub allocated: i64,
    /// Workers admitted and without a voucher when the pass began.
    pub admitted: i64,
}

/// The rules as the walk evaluates them.
struct Admission {
    rules: Vec<Rule>,
    named: Vec<NamedUnion>,
    union_path: String,
}

fn admission(conn: &mut DbConnection, c: &Campaign) -> Result<Admission, AllocationRefusal> {
    let rules = c.rules()?;
    let named = eligibility::named_unions(conn, &rules)?;
    let union = org::find_union(conn, &c.union_id)?.ok_or(ScopeError::NotFound)?;
    Ok(Admission {
        rules,
        named,
        union_path: union.path,
    })
}

/// One page of members after `after`: the last id read, and the admitted ones who hold
/// no voucher of the campaign yet.
fn admitted_page(
    conn: &mut DbConnection,
    c: &Campaign,
    a: &Admission,
    after: Option<&UserId>,
    limit: i64,
) -> Result<(Option<UserId>, Vec<UserId>), AllocationRefusal> {
    let page = eligibility::members_page(conn, &a.union_path, after, limit)?;
    let last = page.last().map(|(id, _)| id.clone());
    let admitted: Vec<UserId> = page
        .into_iter()
        .filter(|(_, facts)| rules::unmet(&a.rules, facts, &a.named).is_empty())
        .map(|(id, _)| id)
        .collect();
    let held = allocation::holders(conn, &c.id, &admitted)?;
    Ok((last, admitted.into_iter().filter(|u| !held.contains(u)).collect()))
}

/// Checks the stock covers every admitted worker without a voucher: all of the stock is
/// released (an allocation has no batches), then the walk counts; then marks a pass begun.
/// Returns the count and the pass's generation (for `run`). Call inside the publication's
/// (or the top-up's first) transaction; a refusal rolls it back.
pub fn prepare(
    conn: &mut DbConnection,
    c: &Campaign,
    now: NaiveDateTime,
) -> Result<(i64, i32), AllocationRefusal> {
    releases::release_all(conn, &c.id, now)?;
    let a = admission(conn, c)?;
    let mut admitted = 0_i64;
    let mut after: Option<UserId> = None;
    loop {
        let (last, page) = admitted_page(conn, c, &a, after.as_ref(), MEMBER_PAGE)?;
        admitted += i64::try_from(page.len()).unwrap_or(i64::MAX);
        let Some(last) = last else { break };
        after = Some(last);
    }
    let available = stock::claimable(conn, &c.id)?;
    if admitted > available {
        return Err(AllocationRefusal::StockInsufficient {
            admitted,
            available,
            allocated: 0,
        });
    }
    Ok((admitted, allocation::begin(conn, &c.id, now)?))
}

/// Issues the vouchers of one page of members, with their units, notifications, webhook
/// events and audit entries. Call inside a write transaction; a refusal rolls it back.
fn batch(
    conn: &mut DbConnection,
    id: &CampaignId,
    after: Option<&UserId>,
    keys: &VoucherKeys,
    plan: Plan,
    actor: Option<&UserId>,
    now: NaiveDateTime,
) -> Result<(Option<UserId>, i64), AllocationRefusal> {
    let c = campaigns::find(conn, id)?.ok_or(ScopeError::NotFound)?;
    if c.status != CampaignStatus::Published {
        return Err(AllocationRefusal::Conflict(format!(
            "{}的活动不能发放",
            c.status.label()
        )));
    }
    if now >= c.claim_ends_at {
        return Err(AllocationRefusal::Conflict("发放截止时间已过，不再发放".into()));
    }
    let a = admission(conn, &c)?;
    let (last, admitted) = admitted_page(conn, &c, &a, after, plan.batch_size)?;
    let issued = allocation::issue(conn, &c, &admitted, keys, now)?;
    let count = i64::try_from(issued.len()).unwrap_or(i64::MAX);
    if !allocation::take_units(conn, &c.id, count)? {
        let available = stock::claimable(conn, &c.id)?;
        return Err(AllocationRefusal::StockInsufficient {
            admitted: count,
            available,
            allocated: 0,
        });
    }
    allocation::heartbeat(conn, &c.id, now)?;
    notices::allocated(conn, &issued, &c, c.expiry_for(now), now)?;
    let ids: Vec<_> = issued.iter().map(|(v, _)| v.clone()).collect();
    let data = json!({"campaign_id": c.id});
    let by = actor.map(UserId::as_str);
    changes::vouchers_changed(conn, by, "voucher.allocated", &ids, &data, now)?;
    Ok((last, count))
}

/// A full pass over the campaign's subtree, a batch per transaction on `conn`, as pass
/// `generation` (from `prepare`, or `allocation::generation` when the jobs resume one).
/// It ends for good — the pending mark cleared, unless a newer pass began — when it
/// completes, when the stock runs out (workers admitted after the check), or when the
/// campaign is no longer open; a database failure leaves it pending for the jobs.
/// `actor` is the admin who asked (`None`: the jobs).
pub fn run(
    conn: &mut DbConnection,
    id: &CampaignId,
    keys: &VoucherKeys,
    plan: Plan,
    actor: Option<&UserId>,
    generation: i32,
    now: NaiveDateTime,
) -> Result<i64, AllocationRefusal> {
    let mut after: Option<UserId> = None;
    let mut total = 0_i64;
    let mut committed = 0_u32;
    loop {
        let done = db::write_tx(conn, |conn| {
            batch(conn, id, after.as_ref(), keys, plan, actor, now)
        });
        let (last, issued) = match done {
            Ok(step) => step,
            Err(e @ AllocationRefusal::Database(_)) => return Err(e),
            Err(refused) => {
                db::write_tx(conn, |conn| stopped(conn, id, generation, total, &refused, now))?;
                return Err(match refused {
                    AllocationRefusal::StockInsufficient {
                        admitted, available, ..
                    } => AllocationRefusal::StockInsufficient {
                        admitted,
                        available,
                        allocated: total,
                    },
                    other => other,
                });
            }
        };
        total += issued;
        committed += 1;
        if plan.abort_after_batches == Some(committed) {
            tracing::error!(
                batches = committed,
                "FAULT_ABORT_AFTER_ALLOCATION_BATCHES: aborting"
            );
            std::process::abort();
        }
        let Some(last) = last else { break };
        after = Some(last);
    }
    db::write_tx(conn, |conn| allocation::finish(conn, id, generation))?;
    Ok(total)
}

/// A pass stopped for good: the mark cleared and the stop audited, so the office sees why.
fn stopped(
    conn: &mut DbConnection,
    id: &CampaignId,
    generation: i32,
    allocated: i64,
    why: &AllocationRefusal,
    now: NaiveDateTime,
) -> Result<(), AllocationRefusal> {
    allocation::finish(conn, id, generation)?;
    let union = campaigns::find(conn, id)?.map(|c| c.union_id);
    let data = json!({"allocated": allocated, "reason": why.to_string()});
    changes::audited(
        conn,
        None,
        "campaign.allocation_stopped",
        ("campaign", id.as_str()),
        union.as_ref(),
        data,
        now,
    )?;
    Ok(())
}

/// `POST /admin/campaigns/{id}/allocate` before its pass: the campaign must be a published
/// allocate campaign still in its window, and the stock must cover the workers admitted
/// since. Call inside a write transaction; then `run`.
pub fn top_up(
    conn: &mut DbConnection,
    c: &Campaign,
    now: NaiveDateTime,
) -> Result<(i64, i32), AllocationRefusal> {
    if c.mode != CampaignMode::Allocate {
        return Err(AllocationRefusal::Conflict(
            "本活动由职工自行领取，不能按名单发放".into(),
        ));
    }
    if c.status != CampaignStatus::Published {
        return Err(AllocationRefusal::Conflict(format!(
            "{}的活动不能发放，请先发布",
            c.status.label()
        )));
    }
    if now >= c.claim_ends_at {
        return Err(AllocationRefusal::Conflict("发放截止时间已过，不能再补发".into()));
    }
    prepare(conn, c, now)
}
