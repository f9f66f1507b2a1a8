//! HTTP helpers the route modules share: pagination, the Idempotency-Key runner and
//! request fingerprints, and the extractor settings that keep every failure problem+json.
//! Route modules import from here and from `views`, never from each other.

pub mod extract;
pub mod idempotent;
pub mod json;
pub mod observe;
pub mod pagination;
mod serde_text;
pub mod throttle;
