//! Use cases: one function per write operation, below HTTP.
//!
//! Each takes `&mut DbConnection` and runs inside the caller's transaction, takes the
//! already-loaded authorization scope where objects must lie in one, decides everything
//! the operation decides, and returns the changed model or a typed refusal (an enum
//! beside the function). Handlers in `routes/` only extract, authorize the principal,
//! hold idempotency tickets and lock leases, and render; `error::refusals` turns every
//! refusal into its HTTP answer.
//!
//! Where does a claim decide? `app::claims::claim`. A redemption? `app::redemptions::redeem`.

pub mod accounts;
pub mod allocation;
mod campaign_checks;
mod campaign_lifecycle;
pub mod campaigns;
pub mod changes;
pub mod claims;
pub mod deliveries;
pub mod expiry;
pub mod lookups;
pub mod membership;
mod notices;
pub mod open_campaigns;
pub mod org;
pub mod partners;
pub mod passwords;
pub mod ratings;
pub mod redemptions;
pub mod roster;
pub mod roster_apply;
pub mod staff;
pub mod voucher_admin;
pub mod webhook_endpoints;
pub mod wishes;
pub mod workers;

/// Free text a person typed, cleaned by `domain::text::clean` (trimmed, NFC, 1..=`max`
/// characters, nothing invisible). `Err` names the field, for the 400 answer.
pub fn text(raw: &str, field: &str, max: usize) -> Result<String, crate::domain::invalid::Invalid> {
    crate::domain::text::clean(raw, max).map_err(|e| crate::domain::invalid::Invalid::new(field, e.message()))
}
