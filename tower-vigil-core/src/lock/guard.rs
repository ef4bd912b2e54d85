//! [`LockGuard`]: a held lock.

use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;
use tokio::time::Instant;

use super::watchdog::Watchdog;
use crate::backend::Backend;
use crate::error::BackendError;

/// A held lock. Release it with [`release`](Self::release); dropping it releases it in the
/// background (on the current tokio runtime, never blocking).
#[must_use = "dropping the guard releases the lock"]
pub struct LockGuard<B: Backend> {
    backend: B,
    key: String,
    owner: Bytes,
    fence: u64,
    lease: Duration,
    /// When the call that last set the lease started (`extend` takes `&self`).
    renewed_at: parking_lot::Mutex<Instant>,
    released: bool,
    watchdog: Option<Watchdog>,
}

impl<B: Backend> LockGuard<B> {
    pub(super) fn new(
        backend: B,
        key: String,
        owner: Bytes,
        fence: u64,
        lease: Duration,
        renewed_at: Instant,
    ) -> Self {
        Self {
            backend,
            key,
            owner,
            fence,
            lease,
            renewed_at: parking_lot::Mutex::new(renewed_at),
            released: false,
            watchdog: None,
        }
    }

    /// The fencing token drawn with this acquisition: larger than every earlier one of the
    /// resource. Pass it to the storage you write to so it can refuse a stale holder.
    pub fn fencing_token(&self) -> u64 {
        self.fence
    }

    /// Resets the lease to its full length. False when the lease was lost (expired, and maybe
    /// taken by another holder).
    pub async fn extend(&self) -> Result<bool, BackendError> {
        let start = Instant::now();
        let extended = self
            .backend
            .compare_and_extend(&self.key, &self.owner, self.lease)
            .await?;
        if extended {
            *self.renewed_at.lock() = start;
        }
        Ok(extended)
    }

    /// Starts a watchdog that extends the lease every third of its length until the guard is
    /// released or dropped. When an extension finds the lease gone, or the lease may have
    /// expired because no extension succeeded in time (its deadline counts from the start of
    /// the last successful one, less a small allowance for clock drift), [`lost`](Self::lost)
    /// resolves and [`is_lost`](Self::is_lost) turns true: at the lease's deadline, however
    /// long a hanging backend call takes.
    pub fn start_watchdog(&mut self) {
        if self.watchdog.is_none() {
            self.watchdog = Some(Watchdog::start(
                self.backend.clone(),
                self.key.clone(),
                self.owner.clone(),
                self.lease,
                *self.renewed_at.lock(),
            ));
        }
    }

    /// True once the watchdog found the lease lost. Always false without a watchdog.
    pub fn is_lost(&self) -> bool {
        self.watchdog.as_ref().is_some_and(Watchdog::is_lost)
    }

    /// Resolves when the watchdog finds the lease lost; never without a watchdog.
    pub async fn lost(&self) {
        match &self.watchdog {
            Some(w) => w.lost().await,
            None => std::future::pending().await,
        }
    }

    /// A receiver that turns `true` when the lease is lost, for use in `select!` loops.
    pub fn lost_signal(&self) -> Option<watch::Receiver<bool>> {
        self.watchdog.as_ref().map(Watchdog::subscribe)
    }

    /// Releases the lock if this guard still owns it. False when the lease had already been
    /// lost.
    pub async fn release(mut self) -> Result<bool, BackendError> {
        self.released = true;
        self.watchdog.take();
        self.backend
            .compare_and_delete(&self.key, &self.owner)
            .await
    }
}

impl<B: Backend> Drop for LockGuard<B> {
    fn drop(&mut self) {
        self.watchdog.take();
        if self.released {
            return;
        }
        // Release without blocking: on the runtime if there is one, else the lease lapses.
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let backend = self.backend.clone();
            let key = std::mem::take(&mut self.key);
            let owner = self.owner.clone();
            handle.spawn(async move {
                if let Err(e) = backend.compare_and_delete(&key, &owner).await {
                    tracing::warn!(error = %e, "releasing a dropped lock failed; its lease will lapse");
                }
            });
        }
    }
}

impl<B: Backend> std::fmt::Debug for LockGuard<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockGuard")
            .field("key", &self.key)
            .field("fence", &self.fence)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}
