//! How models are shown in JSON: one home for every response shape, so routes import
//! views from here and never from each other. Times are UTC (RFC 3339); staff views mask
//! names and phones.

pub mod accounts;
pub mod campaigns;
pub mod csv;
pub mod membership;
pub mod notifications;
pub mod org;
pub mod vouchers;
