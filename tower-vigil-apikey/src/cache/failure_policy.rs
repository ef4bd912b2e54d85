//! The failure policy: what a lookup does when the backend (a cache) or the key store (the
//! truth) fails.
//!
//! - After a failed backend call the backend is skipped for [`BACKEND_RETRY_AFTER`], so an
//!   outage costs one timeout per second, not one per request; meanwhile every key is looked
//!   up in the store directly (still coalesced), so a key revoked there is rejected at once.
//! - A "no such key" confirmed within the negative TTL answers without the store while the
//!   backend fails (failing closed, and keeping a flood of bad keys off the store).
//! - A key this instance validated within `stale_if_error` is served from L1 only when the
//!   store fails too; otherwise the answer is "unavailable" (503).
//! - Lookups that queued behind a failed store call share its failure instead of each calling
//!   the store in turn.
//!
//! [`BACKEND_RETRY_AFTER`]: super::config::BACKEND_RETRY_AFTER

use std::sync::Arc;

use tokio::time::Instant;
use tower_vigil_core::BackendError;

use super::config::BACKEND_RETRY_AFTER;
use super::l1::Entry;
use super::state::Inner;
use crate::metrics::{self, inc};
use crate::{KeyStore, StoreError, StoreErrorKind};

/// The error a call gets when it shares a concurrent lookup's failure.
pub(super) fn shared(kind: StoreErrorKind) -> StoreError {
    match kind {
        StoreErrorKind::Timeout => StoreError::timeout(),
        _ => StoreError::new("a concurrent lookup of this key failed"),
    }
}

impl<B, K: KeyStore> Inner<B, K> {
    /// The kind of a store failure for `hash` recorded after `arrived`: a lookup this call
    /// waited behind failed.
    pub(super) async fn failed_since(
        &self,
        hash: &str,
        arrived: Instant,
    ) -> Option<StoreErrorKind> {
        self.failures
            .get(hash)
            .await
            .and_then(|(at, kind)| (at >= arrived).then_some(kind))
    }

    /// Remembers that the store failed for `hash`, for the calls queued behind this one.
    pub(super) async fn store_failed(&self, hash: &str, kind: StoreErrorKind) {
        self.failures
            .insert(hash.to_owned(), (Instant::now(), kind))
            .await;
    }

    /// A key this instance validated within `stale_if_error` (or a "no such key" within the
    /// negative TTL), served while the store fails.
    pub(super) fn servable_stale(
        &self,
        current: Option<&Arc<Entry<K::Extra>>>,
    ) -> Option<Arc<Entry<K::Extra>>> {
        let e = current?;
        let window = if e.found.is_some() {
            self.config.stale_if_error
        } else {
            self.config.negative_ttl
        };
        (e.validated_at.elapsed() <= window).then(|| {
            inc(metrics::STALE_SERVED_TOTAL);
            Arc::clone(e)
        })
    }

    /// A "no such key" confirmed within the negative TTL, served while the backend fails
    /// without asking the store (L2 would have answered it for as long).
    pub(super) fn servable_negative(
        &self,
        current: Option<&Arc<Entry<K::Extra>>>,
    ) -> Option<Arc<Entry<K::Extra>>> {
        current
            .filter(|e| e.found.is_none())
            .and_then(|e| self.servable_stale(Some(e)))
    }

    /// True while the backend is skipped after a failure.
    pub(super) fn backend_paused(&self) -> bool {
        self.backend_down_until
            .lock()
            .is_some_and(|until| Instant::now() < until)
    }

    /// Counts and logs a failed backend call, and skips the backend for a while.
    pub(super) fn backend_failed(&self, e: &BackendError) {
        *self.backend_down_until.lock() = Some(Instant::now() + BACKEND_RETRY_AFTER);
        metrics::backend_error(e.kind().to_string());
        tracing::warn!(error = %e, "api-key backend call failed; using the failure policy");
    }
}
