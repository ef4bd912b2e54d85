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

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use tower_vigil_core::{BackendError, BackendResult};

use crate::intercept::{Intercepted, Interceptor};

/// Wraps a backend; every call goes through, except `compare_and_extend` (a lease renewal)
/// while stalled: it then waits the stall (on tokio's clock) and fails with a timeout; and
/// `acquire_lease` once its replies are lost: it runs, then fails as timed out.
pub type Stalling<B> = Intercepted<B, Stall>;

/// The switches of a [`Stalling`] backend. Lease renewals and acquisitions are the core
/// scripts `core.compare_and_extend` and `core.acquire_lease`.
#[derive(Debug, Default)]
pub struct Stall {
    stall: Mutex<Option<Duration>>,
    lose_lease_replies: AtomicBool,
}

impl Stall {
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

impl Interceptor for Stall {
    async fn before(&self, script: &'static str) -> BackendResult<()> {
        let stall = *self.stall.lock();
        if script == "core.compare_and_extend"
            && let Some(timeout) = stall
        {
            tokio::time::sleep(timeout).await;
            return Err(BackendError::timeout(timeout));
        }
        Ok(())
    }

    async fn after(&self, script: &'static str) -> BackendResult<()> {
        if script == "core.acquire_lease" && self.lose_lease_replies.load(Ordering::SeqCst) {
            return Err(BackendError::timeout(Duration::ZERO));
        }
        Ok(())
    }
}
