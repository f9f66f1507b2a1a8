//! Who is calling: passwords, access tokens, sessions and the `Principal` extractor.

pub mod jwt;
pub mod password;
pub mod principal;
pub mod sessions;

pub use principal::Principal;
