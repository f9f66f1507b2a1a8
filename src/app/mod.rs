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
mod campaign_checks;
pub mod campaigns;
pub mod claims;
pub mod membership;
pub mod org;
pub mod redemptions;
pub mod workers;

/// Free text a person typed: trimmed, 1..=`max` characters, no control characters.
/// `Err` names the field, for the 400 answer.
pub fn text(raw: &str, field: &str, max: usize) -> Result<String, String> {
    crate::domain::profile::bounded_text(raw, max)
        .ok_or_else(|| format!("{field} must be 1-{max} characters"))
}
