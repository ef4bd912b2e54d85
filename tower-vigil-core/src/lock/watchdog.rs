//! The lease watchdog: renews every lease/3, and signals loss at the moment the lease may have
//! expired.
//!
//! The store sets a renewed lease's expiry some time after the renewal call *starts*, so the
//! lease lives at least until `start of the last successful renewal + lease`. The watchdog
//! signals loss at that deadline, less an allowance for clock drift between this process and
//! the store (Redlock's: 1 % of the lease plus 2 ms), unless a renewal succeeds first. A renewal
//! call that hangs (a frozen server, a partition) is raced against the deadline, so a per-call
//! timeout longer than the lease cannot delay the signal; a failed renewal is retried sooner
//! than the regular period, never past the deadline.

use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until, timeout_at};

use crate::backend::{Backend, instant_after};

pub(super) struct Watchdog {
    task: JoinHandle<()>,
    lost: watch::Receiver<bool>,
}

/// The allowance for the store's clock running ahead of ours over one lease.
pub(super) fn drift(lease: Duration) -> Duration {
    lease / 100 + Duration::from_millis(2)
}

/// The last moment the lease renewed by a call started at `start` is surely still held.
fn deadline(start: Instant, lease: Duration) -> Instant {
    instant_after(start, lease.saturating_sub(drift(lease)))
}

impl Watchdog {
    /// Starts renewing the lease `key` of `owner`, last set by a call started at `renewed_at`.
    pub(super) fn start<B: Backend>(
        backend: B,
        key: String,
        owner: Bytes,
        lease: Duration,
        renewed_at: Instant,
    ) -> Self {
        let (tx, lost) = watch::channel(false);
        let task = tokio::spawn(async move {
            let period = lease / 3;
            let retry = (period / 3).max(Duration::from_millis(1));
            let mut expires = deadline(renewed_at, lease);
            let mut next = instant_after(renewed_at, period);
            loop {
                sleep_until(next.min(expires)).await;
                let start = Instant::now();
                if start >= expires {
                    break;
                }
                match timeout_at(expires, backend.compare_and_extend(&key, &owner, lease)).await {
                    Ok(Ok(true)) => {
                        expires = deadline(start, lease);
                        next = instant_after(start, period);
                    }
                    // The lease is gone (expired, maybe taken by another holder).
                    Ok(Ok(false)) => break,
                    // A failure does not mean the lease is gone: try again soon.
                    Ok(Err(_)) => next = instant_after(Instant::now(), retry),
                    // The deadline passed while the call was pending.
                    Err(_) => break,
                }
            }
            tracing::warn!(%key, "lock lease lost");
            let _ = tx.send(true);
        });
        Self { task, lost }
    }

    pub(super) fn is_lost(&self) -> bool {
        *self.lost.borrow()
    }

    pub(super) fn subscribe(&self) -> watch::Receiver<bool> {
        self.lost.clone()
    }

    pub(super) async fn lost(&self) {
        let mut rx = self.lost.clone();
        // An error means the task ended, which it only does after sending `true`.
        let _ = rx.wait_for(|lost| *lost).await;
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.task.abort();
    }
}
