//! Who is calling: passwords, access tokens, sessions and the `Principal` extractor.

pub mod gate;
pub mod jwt;
pub mod partner;
pub mod password;
pub mod principal;
pub mod scope;
pub mod session_cache;
pub mod session_listener;
mod session_state;
pub mod sessions;

pub use principal::{Presented, Principal};
