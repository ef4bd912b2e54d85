//! [`Stalling`]: a backend whose lease renewals can be made to hang, as calls to a frozen or
//! partitioned server do until their timeout, and whose lease acquisitions can lose their
//! replies.
//!
//! ```
//! # async fn t() {
//! use std::time::Duration;
//! use tower_vigil_tests::{fixtures, stalling::Stalling};
//!
//! let backend = Stalling::new(fixtures::memory());
//! backend.stall_renewals(Duration::from_secs(3)); // each renewal hangs 3 s, then times out
//! # }
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use tower_vigil_core::backend::{BackendInfo, BackendKind, BackendResult, Subscription};
use tower_vigil_core::keys::KeyPrefix;
use tower_vigil_core::script::{Arg, Script};
use tower_vigil_core::{Backend, BackendError};

/// Wraps a backend (only the trait's required methods: the rest are scripts run through
/// [`Backend::run`]); every call goes through, except `compare_and_extend` (a lease renewal)
/// while stalled: it then waits the stall (on tokio's clock) and fails with a timeout; and
/// `acquire_lease` once its replies are lost: it runs, then fails as timed out.
#[derive(Clone, Debug)]
pub struct Stalling<B> {
    inner: B,
    stall: Arc<Mutex<Option<Duration>>>,
    lose_lease_replies: Arc<AtomicBool>,
}

impl<B: Backend> Stalling<B> {
    /// `inner`, not stalled.
    pub fn new(inner: B) -> Self {
        Self {
            inner,
            stall: Arc::new(Mutex::new(None)),
            lose_lease_replies: Arc::new(AtomicBool::new(false)),
        }
    }

    /// From now on each `acquire_lease` runs on the inner backend but answers as timed out,
    /// as a call does whose reply a partition held past its timeout.
    pub fn lose_lease_replies(&self) {
        self.lose_lease_replies.store(true, Ordering::SeqCst);
    }

    /// From now on each renewal hangs for `timeout`, then fails as timed out.
    pub fn stall_renewals(&self, timeout: Duration) {
        *self.stall.lock() = Some(timeout);
    }
}

impl<B: Backend> Backend for Stalling<B> {
    fn kind(&self) -> BackendKind {
        self.inner.kind()
    }
    fn prefix(&self) -> &KeyPrefix {
        self.inner.prefix()
    }
    /// Lease renewals and acquisitions are the core scripts `core.compare_and_extend` and
    /// `core.acquire_lease`, which every backend runs through here.
    async fn run<T: Send + 'static>(
        &self,
        script: &Script<T>,
        keys: &[&str],
        args: &[Arg<'_>],
    ) -> BackendResult<T> {
        match script.name() {
            "core.compare_and_extend" => {
                let stall = *self.stall.lock();
                if let Some(timeout) = stall {
                    tokio::time::sleep(timeout).await;
                    return Err(BackendError::timeout(timeout));
                }
                self.inner.run(script, keys, args).await
            }
            "core.acquire_lease" => {
                let acquired = self.inner.run(script, keys, args).await;
                if self.lose_lease_replies.load(Ordering::SeqCst) {
                    return Err(BackendError::timeout(Duration::ZERO));
                }
                acquired
            }
            _ => self.inner.run(script, keys, args).await,
        }
    }
    async fn publish(&self, channel: &str, message: Bytes) -> BackendResult<()> {
        self.inner.publish(channel, message).await
    }
    async fn subscribe(&self, channel: &str) -> BackendResult<Subscription> {
        self.inner.subscribe(channel).await
    }
    async fn ping(&self) -> BackendResult<Duration> {
        self.inner.ping().await
    }
    async fn info(&self) -> BackendResult<BackendInfo> {
        self.inner.info().await
    }
}
