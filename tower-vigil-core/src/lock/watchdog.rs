//! The lease watchdog: renews every lease/3, signals loss.

use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::backend::Backend;

pub(super) struct Watchdog {
    task: JoinHandle<()>,
    lost: watch::Receiver<bool>,
}

impl Watchdog {
    pub(super) fn start<B: Backend>(
        backend: B,
        key: String,
        owner: Bytes,
        lease: Duration,
    ) -> Self {
        let (tx, lost) = watch::channel(false);
        let task = tokio::spawn(async move {
            let period = lease / 3;
            let mut last_ok = Instant::now();
            loop {
                tokio::time::sleep(period).await;
                match backend.compare_and_extend(&key, &owner, lease).await {
                    Ok(true) => last_ok = Instant::now(),
                    Ok(false) => break,
                    // A failed call does not mean the lease is gone, but once a whole lease
                    // passed without a renewal it certainly is.
                    Err(_) if last_ok.elapsed() < lease => {}
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
