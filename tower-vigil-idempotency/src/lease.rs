//! The lease of a held key: renewed every third of its length while the handler runs and
//! its body is read, for at most the maximum hold, so a hung handler frees its key in the end
//! and a dead process's key frees when its lease lapses.

use std::time::Duration;

use tokio::time::Instant;

use crate::metrics::{op, timed};
use tower_vigil_core::Backend;

use crate::store;

/// Renews the lease every third of its length, for at most `max_hold` in all: the last
/// renewal is cut so the key frees at `max_hold` even if the handler hangs. Returns when it
/// stops renewing; dropped (with the handler's end) otherwise.
pub(crate) async fn renew<B: Backend>(
    backend: &B,
    key: &str,
    owner: &str,
    lease: Duration,
    max_hold: Duration,
) {
    let stop_at = Instant::now() + max_hold;
    loop {
        tokio::time::sleep(lease / 3).await;
        let left = stop_at.saturating_duration_since(Instant::now());
        if left < Duration::from_millis(1) {
            tracing::warn!("idempotent handler exceeded its maximum hold; lease not renewed");
            return;
        }
        match timed(
            op::EXTEND,
            store::extend(backend, key, owner.as_bytes(), lease.min(left)),
        )
        .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!("idempotency lease lost while the handler runs");
                return;
            }
            // A failed renewal is retried next tick; the lease may still hold.
            Err(e) => tracing::debug!(error = %e, "renewing an idempotency lease failed"),
        }
    }
}
