//! Argon2id password hashes, and [`Passwords`]: where logins verify them.
//!
//! Verification is deliberately slow (tens of milliseconds and about 19 MiB each), so it never
//! runs under the database lock — one login would otherwise stall every API-key lookup — and at
//! most one per CPU runs at once, so a burst of logins from many addresses costs bounded memory
//! and leaves the blocking pool to the database.

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use tokio::sync::Semaphore;

use crate::db::DbResult;

/// Verifies passwords off the async workers, a bounded number at a time. Cheap to clone.
#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// Called on the verifying thread just before Argon2 runs (tests: to hold a verification
    /// in progress and look at what else can run meanwhile).
    #[cfg(test)]
    hook: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl Default for Passwords {
    /// One verification per CPU.
    fn default() -> Self {
        Self::new(std::thread::available_parallelism().map_or(2, usize::from))
    }
}

impl Passwords {
    /// At most `concurrent` verifications at once (at least 1).
    pub fn new(concurrent: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrent.max(1))),
            #[cfg(test)]
            hook: None,
        }
    }

    /// Runs `hook` just before each verification.
    #[cfg(test)]
    pub fn with_hook(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// True when `password` matches the PHC string `phc`. With no hash (an unknown user) a
    /// dummy one is verified instead, so timing does not reveal which usernames exist.
    pub async fn verify(&self, password: String, phc: Option<String>) -> DbResult<bool> {
        // Waiting for a permit here, not on a blocking thread: queued logins hold no thread.
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        #[cfg(test)]
        let hook = self.hook.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            #[cfg(test)]
            if let Some(hook) = hook {
                hook();
            }
            match phc {
                Some(phc) => verify_password(&password, &phc),
                None => {
                    let _ = verify_password(&password, dummy_hash());
                    false
                }
            }
        })
        .await
        .map_err(|e| e.to_string())
    }
}

/// A fresh Argon2id PHC string of `password`.
pub fn hash_password(password: &str) -> DbResult<String> {
    let salt = SaltString::encode_b64(&tower_vigil_core::secret::random_bytes::<16>())
        .map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A valid hash of a random password, verified against when the user does not exist.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_password(&tower_vigil_core::secret::random_token(16)).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip() {
        let h = hash_password("pw").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("pw", &h));
        assert!(!verify_password("pW", &h));
    }

    #[tokio::test]
    async fn an_unknown_user_is_never_verified() {
        let passwords = Passwords::new(1);
        assert!(!passwords.verify("pw".into(), None).await.unwrap());
        let h = hash_password("pw").unwrap();
        assert!(
            passwords
                .verify("pw".into(), Some(h.clone()))
                .await
                .unwrap()
        );
        assert!(!passwords.verify("pW".into(), Some(h)).await.unwrap());
    }
}
