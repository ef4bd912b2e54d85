//! [`reset`]: an operator's "forget this caller" — deletes a caller's state under some
//! policies, through the same key names as [`acquire`](super::acquire).

use tower_vigil_core::{Backend, BackendError};

use crate::keys;
use crate::quota::Policy;

/// Deletes the state of the caller's `key` under each of `policies` (the keys
/// [`Acquire::keys`](crate::Acquire::keys) names), so its next request starts with the full
/// quota. Returns how many policies had state. Meant for operators (the `vigil ratelimit
/// reset` command) and admin endpoints, not the request path.
///
/// A layer's in-process deny cache (on by default) keeps answering a key it denied until that
/// denial's retry time; a reset reaches the backend, not other processes' deny caches.
///
/// ```
/// use tower_vigil_ratelimit::{Acquire, MemoryBackend, Policy, Quota, acquire, reset};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_vigil_core::BackendError> {
/// let backend = MemoryBackend::new();
/// let policies = [Policy::new("default", Quota::per_minute(1)).unwrap()];
/// assert!(acquire(&backend, Acquire::new("user:7", &policies)).await?.allowed());
/// assert!(!acquire(&backend, Acquire::new("user:7", &policies)).await?.allowed());
/// assert_eq!(reset(&backend, "user:7", &policies).await?, 1);
/// assert!(acquire(&backend, Acquire::new("user:7", &policies)).await?.allowed());
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// The backend's error; policies deleted before it stay deleted.
pub async fn reset<B: Backend>(
    backend: &B,
    key: &str,
    policies: &[Policy],
) -> Result<usize, BackendError> {
    let mut deleted = 0;
    for k in keys::policy_keys(key, policies) {
        if backend.delete(&k).await? {
            deleted += 1;
        }
    }
    Ok(deleted)
}
