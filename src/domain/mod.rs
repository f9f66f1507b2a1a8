//! Domain types (parsed, never re-validated) and the queries that own each model.

pub mod allocation;
pub mod applications;
pub mod attestations;
pub mod audit;
pub mod audit_chain;
pub mod campaign_modes;
pub mod campaigns;
pub mod civil;
pub mod claim_statement;
pub mod counter_log;
pub mod deliveries;
mod dry_run;
pub mod eligibility;
pub mod exports;
pub mod grants;
pub mod ids;
pub mod invalid;
pub mod join_codes;
pub mod membership;
pub mod notifications;
pub mod org;
pub mod partner_calls;
pub mod partners;
pub mod phone;
pub mod profile;
pub mod ratings;
pub mod redeem_statement;
pub mod redemptions;
pub mod releases;
pub mod roster;
pub mod rule_input;
pub mod rule_sql;
pub mod rules;
pub mod staff;
pub mod standing;
pub mod stock;
pub mod text;
pub mod users;
pub mod voucher_claims;
pub mod voucher_code;
pub mod voucher_reads;
pub mod voucher_stats;
pub mod vouchers;
pub mod webhooks;
pub mod wishes;
pub mod workers;

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

/// Now, at the microsecond precision both databases keep.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// A stored UTC timestamp as it is shown in JSON (RFC 3339).
pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}
