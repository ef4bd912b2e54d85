//! [`Lock`]: a distributed lock with a lease, an owner token and a fencing token.
//!
//! Acquiring sets the lease key if it is free and draws a **fencing token** in the same atomic
//! step; tokens of one resource strictly increase, so a storage layer can refuse writes from a
//! holder whose lease lapsed (it carries an older token). Release and extend check the owner
//! token, so a holder whose lease expired cannot release or extend someone else's lock. An
//! optional watchdog renews the lease every third of its length and reports when it is lost.
//! Dropping a guard releases it asynchronously (never blocking).
//!
//! Keys: `lock:{resource}` and `lock:{resource}:fence`, one hash tag, so this works on Redis
//! Cluster as it does on one Redis and in memory.
//!
//! ```
//! use std::time::Duration;
//! use tower_vigil_core::{Lock, MemoryBackend};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let backend = MemoryBackend::new();
//! let lock = Lock::new(backend.clone(), "invoice:42", Duration::from_secs(10))?;
//!
//! let guard = lock.try_acquire().await?.expect("free");
//! assert!(lock.try_acquire().await?.is_none(), "held");
//! let token = guard.fencing_token();
//! guard.release().await?;
//!
//! let again = lock.acquire(Duration::from_secs(1)).await?.expect("free again");
//! assert!(again.fencing_token() > token);
//! # Ok(())
//! # }
//! ```

mod guard;
mod watchdog;

use std::time::Duration;

use bytes::Bytes;

pub use self::guard::LockGuard;
use crate::backend::{Backend, check_ttl, instant_after};
use crate::error::{BackendError, ConfigError};
use crate::keys::hash_tag;
use crate::secret::{hex, random_bytes};

/// The longest resource name accepted.
pub const MAX_RESOURCE_LEN: usize = 512;

/// A named lock on one resource. Cheap to clone; build once, acquire many times.
#[derive(Debug, Clone)]
pub struct Lock<B> {
    backend: B,
    key: String,
    fence_key: String,
    lease: Duration,
}

impl<B: Backend> Lock<B> {
    /// A lock on `resource` whose holder keeps it for at most `lease` unless extended.
    pub fn new(backend: B, resource: &str, lease: Duration) -> Result<Self, ConfigError> {
        if resource.is_empty() || resource.len() > MAX_RESOURCE_LEN {
            return Err(ConfigError::new(
                "resource",
                format!("must be 1 to {MAX_RESOURCE_LEN} bytes"),
            ));
        }
        if lease < Duration::from_millis(10) {
            return Err(ConfigError::new("lease", "must be at least 10 ms"));
        }
        check_ttl("lease", lease)?;
        let tag = hash_tag(resource);
        Ok(Self {
            backend,
            key: format!("lock:{tag}"),
            fence_key: format!("lock:{tag}:fence"),
            lease,
        })
    }

    /// The lease length.
    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// Takes the lock if it is free; `None` when someone holds it.
    pub async fn try_acquire(&self) -> Result<Option<LockGuard<B>>, BackendError> {
        // The lease lives at least `lease` from here: the store sets it after this instant.
        let start = tokio::time::Instant::now();
        let owner = Bytes::from(hex(&random_bytes::<16>()));
        let fence = match self
            .backend
            .acquire_lease(&self.key, &self.fence_key, &owner, self.lease)
            .await
        {
            Ok(fence) => fence,
            Err(e) => {
                self.release_unknown_outcome(owner);
                return Err(e);
            }
        };
        Ok(fence.map(|fence| {
            LockGuard::new(
                self.backend.clone(),
                self.key.clone(),
                owner,
                fence,
                self.lease,
                start,
            )
        }))
    }

    /// After a failed acquire (a timeout, a dropped connection) the lease may still have been
    /// taken, or be taken when a stalled request reaches the server late: nobody would hold
    /// that guard, and the lock would stay busy for a whole lease. Releasing by this attempt's
    /// owner token undoes it; sent on the same connection, it runs after the acquire. Without a
    /// runtime (or if this fails too) the lease lapses.
    fn release_unknown_outcome(&self, owner: Bytes) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let backend = self.backend.clone();
        let key = self.key.clone();
        handle.spawn(async move {
            if let Err(e) = backend.compare_and_delete(&key, &owner).await {
                tracing::warn!(error = %e, "releasing a failed lock acquire failed; its lease will lapse");
            }
        });
    }

    /// Takes the lock, retrying with jittered backoff for up to `wait` (any `Duration`: one
    /// beyond ten years waits ten years); `None` when it stayed held that long.
    pub async fn acquire(&self, wait: Duration) -> Result<Option<LockGuard<B>>, BackendError> {
        let deadline = instant_after(tokio::time::Instant::now(), wait);
        let mut delay = Duration::from_millis(5);
        loop {
            if let Some(guard) = self.try_acquire().await? {
                return Ok(Some(guard));
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            // Full jitter keeps contenders from retrying in lockstep.
            let jitter = u64::from(random_bytes::<2>()[0]) * delay.as_micros() as u64 / 255;
            let pause = Duration::from_micros(jitter).max(Duration::from_millis(1));
            tokio::time::sleep(pause.min(deadline - now)).await;
            delay = (delay * 2).min(Duration::from_millis(200));
        }
    }
}
