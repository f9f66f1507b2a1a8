//! argon2id hashing off the async workers, with a bound on concurrent hashes so a login
//! storm queues here instead of starving every other request.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// OWASP's argon2id minimum: 19 MiB, 2 passes, 1 lane (argon2's defaults).
fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// Verified against when the phone is unknown, so both cost the same.
    dummy_hash: Arc<str>,
}

const MAX_WAIT: Duration = Duration::from_secs(10);

impl PasswordHasher {
    pub fn new(max_concurrent: usize) -> Result<Self, String> {
        let dummy_hash = hash_blocking("zhijian-dummy-password").map_err(|e| e.to_string())?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            dummy_hash: dummy_hash.into(),
        })
    }

    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.with_permit(move || hash_blocking(&password).map_err(ApiError::internal))
            .await
    }

    /// True only when `stored` exists and matches; an unknown account costs a full verify.
    pub async fn verify(&self, stored: Option<String>, password: String) -> Result<bool, ApiError> {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy_hash.to_string());
        let matched = self
            .with_permit(move || {
                let parsed = PasswordHash::new(&hash).map_err(ApiError::internal)?;
                Ok(argon2().verify_password(password.as_bytes(), &parsed).is_ok())
            })
            .await?;
        Ok(known && matched)
    }

    async fn with_permit<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = tokio::time::timeout(MAX_WAIT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| ApiError::unavailable("password hashing saturated"))?
            .map_err(ApiError::internal)?;
        let result = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(ApiError::internal)?;
        result
    }
}

fn hash_blocking(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon2().hash_password(password.as_bytes(), &salt)?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_owasp_parameters() {
        let hash = hash_blocking("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    }

    #[tokio::test]
    async fn verifies_and_refuses() {
        let hasher = PasswordHasher::new(2).unwrap();
        let hash = hasher.hash("correct horse".into()).await.unwrap();
        assert!(hasher
            .verify(Some(hash.clone()), "correct horse".into())
            .await
            .unwrap());
        assert!(!hasher.verify(Some(hash), "wrong horse".into()).await.unwrap());
        assert!(!hasher
            .verify(None, "zhijian-dummy-password".into())
            .await
            .unwrap());
    }
}
