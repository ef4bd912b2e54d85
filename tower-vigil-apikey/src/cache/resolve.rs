//! The lookup path: L1, then (coalesced per key) L2 and the store, with the failure policy:
//! with the backend down the store is asked first, and stale L1 entries only stand in when
//! it fails too.

use std::sync::Arc;
use std::time::Duration;

use moka::ops::compute::Op;
use tokio::time::Instant;
use tower_vigil_core::BackendError;

use super::local::Entry;
use super::{ApiKeyBackend, Inner, record};
use crate::metrics::{self, inc};
use crate::{ApiKeyData, Authenticated, KeyStore, StoreError, StoreErrorKind};

/// How many times a lookup starts over after racing an invalidation before it answers from
/// the store without caching.
const RACE_ROUNDS: usize = 3;

/// After a backend call fails, how long lookups skip the backend and go straight to the
/// failure policy, so an outage costs one timeout per second instead of one per request.
pub(crate) const BACKEND_RETRY_AFTER: Duration = Duration::from_secs(1);

/// How long a failed store lookup is remembered, so the calls that were queued behind it
/// share its outcome (they reach the per-key lock right after it, well within this).
pub(crate) const FAILURE_SHARED_FOR: Duration = Duration::from_secs(1);

type Found<T> = Option<Authenticated<T>>;

/// What the shared tier and the store said.
struct Fetched<T> {
    found: Found<T>,
    /// False when every attempt to cache it raced a revocation.
    cacheable: bool,
}

enum FetchError {
    /// The shared cache failed (already logged and counted).
    Backend,
    Store(StoreError),
}

/// The error a call gets when it shares a concurrent lookup's failure.
fn shared(kind: StoreErrorKind) -> StoreError {
    match kind {
        StoreErrorKind::Timeout => StoreError::timeout(),
        _ => StoreError::new("a concurrent lookup of this key failed"),
    }
}

impl<B: ApiKeyBackend, K: KeyStore> Inner<B, K> {
    pub(super) async fn lookup(&self, hash: &str) -> Result<Found<K::Extra>, StoreError> {
        if let Some(entry) = self.l1.get(hash).await
            && self.local.is_fresh(hash, &entry)
        {
            return Ok(self.l1_hit(&entry));
        }
        let arrived = Instant::now();
        for _ in 0..RACE_ROUNDS {
            let entry = self.resolve(hash, arrived).await?;
            // An invalidation that arrived while this fill ran wins: look again.
            if !self.local.invalidated_since(hash, &entry) {
                return Ok(entry.found.clone());
            }
        }
        // Invalidated on every round (a key being revoked again and again): the store decides.
        Ok(self.store_lookup(hash).await?.map(Authenticated::new))
    }

    fn l1_hit(&self, entry: &Entry<K::Extra>) -> Found<K::Extra> {
        inc(metrics::L1_HITS_TOTAL);
        if entry.found.is_none() {
            inc(metrics::NEGATIVE_HITS_TOTAL);
        }
        entry.found.clone()
    }

    /// One coalesced resolution: calls for one key run one at a time (moka's per-key lock),
    /// and a call finds the entry an earlier one left: fresh, or revalidated while this call
    /// waited. A call that waited behind a failed store lookup shares its failure rather than
    /// queueing one more store call behind it.
    ///
    /// With the backend down, the store decides: a key revoked there is rejected at once,
    /// even if this instance validated it a moment ago. A key this instance validated is
    /// served stale only when the store fails too. A recent "no such key" is still answered
    /// from L1 (failing closed, and keeping a flood of bad keys off the store).
    async fn resolve(
        &self,
        hash: &str,
        arrived: Instant,
    ) -> Result<Arc<Entry<K::Extra>>, StoreError> {
        let mut out: Option<Result<Arc<Entry<K::Extra>>, StoreError>> = None;
        let slot = &mut out;
        self.l1
            .entry(hash.to_owned())
            .and_compute_with(|current| async move {
                let current = current
                    .map(moka::Entry::into_value)
                    .filter(|e| !self.local.invalidated_since(hash, e));
                if let Some(e) = current.as_ref().filter(|e| {
                    self.local.is_fresh(hash, e) || self.local.revalidated_for(hash, e, arrived)
                }) {
                    self.l1_hit(e);
                    *slot = Some(Ok(Arc::clone(e)));
                    return Op::Nop;
                }
                if let Some(kind) = self.failed_since(hash, arrived).await {
                    *slot = Some(
                        self.servable_stale(current.as_ref())
                            .ok_or_else(|| shared(kind)),
                    );
                    return Op::Nop;
                }
                let stamp = self.local.stamp();
                let fetched = match self.fetch(hash).await {
                    Ok(f) => Ok(f),
                    Err(FetchError::Backend) => {
                        if let Some(negative) = self.servable_negative(current.as_ref()) {
                            *slot = Some(Ok(negative));
                            return Op::Nop;
                        }
                        // The backend is only a cache: the store is the truth, and asking it
                        // first is what lets a revocation win during an outage.
                        self.store_lookup(hash).await.map(|found| Fetched {
                            found: found.map(Authenticated::new),
                            cacheable: true,
                        })
                    }
                    Err(FetchError::Store(e)) => Err(e),
                };
                match fetched {
                    Ok(f) => {
                        let entry = Arc::new(Entry::new(f.found, stamp));
                        *slot = Some(Ok(Arc::clone(&entry)));
                        if f.cacheable {
                            Op::Put(entry)
                        } else {
                            Op::Remove
                        }
                    }
                    Err(e) => {
                        self.failures
                            .insert(hash.to_owned(), (Instant::now(), e.kind()))
                            .await;
                        *slot = Some(self.servable_stale(current.as_ref()).ok_or(e));
                        Op::Nop
                    }
                }
            })
            .await;
        out.unwrap_or_else(|| Err(StoreError::new("lookup did not complete")))
    }

    /// The kind of a store failure for `hash` recorded after `arrived`: a lookup this call
    /// waited behind failed.
    async fn failed_since(&self, hash: &str, arrived: Instant) -> Option<StoreErrorKind> {
        self.failures
            .get(hash)
            .await
            .and_then(|(at, kind)| (at >= arrived).then_some(kind))
    }

    /// A key this instance validated within `stale_if_error` (or a "no such key" within the
    /// negative TTL), served while the store fails.
    fn servable_stale(
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
    fn servable_negative(
        &self,
        current: Option<&Arc<Entry<K::Extra>>>,
    ) -> Option<Arc<Entry<K::Extra>>> {
        current
            .filter(|e| e.found.is_none())
            .and_then(|e| self.servable_stale(Some(e)))
    }

    /// L2, then the store; fills L2 unless a revocation raced the lookup.
    async fn fetch(&self, hash: &str) -> Result<Fetched<K::Extra>, FetchError> {
        if self.backend_paused() {
            return Err(FetchError::Backend);
        }
        let (record_key, rev_key) = record::keys(hash);
        for _ in 0..RACE_ROUNDS {
            let (cached, rev) = metrics::timed(
                metrics::op::READ,
                self.backend.read_record(&record_key, &rev_key),
            )
            .await
            .map_err(|e| {
                self.backend_failed(&e);
                FetchError::Backend
            })?;
            if let Some(found) = cached.and_then(|b| record::decode::<K::Extra>(&b)) {
                inc(metrics::L2_HITS_TOTAL);
                if found.is_none() {
                    inc(metrics::NEGATIVE_HITS_TOTAL);
                }
                return Ok(Fetched {
                    found: found.map(Authenticated::new),
                    cacheable: true,
                });
            }
            let found = self.store_lookup(hash).await.map_err(FetchError::Store)?;
            let ttl = if found.is_some() {
                self.config.l2_ttl
            } else {
                self.config.negative_ttl
            };
            let Some(value) = record::encode(found.as_ref()) else {
                // Unsharable (already logged): this instance still answers from it.
                return Ok(Fetched {
                    found: found.map(Authenticated::new),
                    cacheable: true,
                });
            };
            match metrics::timed(
                metrics::op::FILL,
                self.backend
                    .fill_record(&record_key, &rev_key, rev, value, ttl),
            )
            .await
            {
                Ok(true) => {
                    return Ok(Fetched {
                        found: found.map(Authenticated::new),
                        cacheable: true,
                    });
                }
                // Revoked while we asked the store: what it said may predate the revocation.
                Ok(false) => {}
                Err(e) => {
                    // The store answered; only sharing the answer failed.
                    self.backend_failed(&e);
                    return Ok(Fetched {
                        found: found.map(Authenticated::new),
                        cacheable: true,
                    });
                }
            }
        }
        let found = self.store_lookup(hash).await.map_err(FetchError::Store)?;
        Ok(Fetched {
            found: found.map(Authenticated::new),
            cacheable: false,
        })
    }

    fn backend_paused(&self) -> bool {
        self.backend_down_until
            .lock()
            .is_some_and(|until| Instant::now() < until)
    }

    fn backend_failed(&self, e: &BackendError) {
        *self.backend_down_until.lock() = Some(Instant::now() + BACKEND_RETRY_AFTER);
        metrics::backend_error(e.kind().to_string());
        tracing::warn!(error = %e, "api-key backend call failed; using the failure policy");
    }

    pub(super) async fn store_lookup(
        &self,
        hash: &str,
    ) -> Result<Option<ApiKeyData<K::Extra>>, StoreError> {
        inc(metrics::STORE_LOOKUPS_TOTAL);
        match metrics::timed(
            metrics::op::LOOKUP,
            tokio::time::timeout(self.config.store_timeout, self.store.lookup(hash)),
        )
        .await
        {
            Ok(Ok(found)) => Ok(found),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "api-key store lookup failed");
                Err(e)
            }
            Err(_) => {
                tracing::warn!(timeout = ?self.config.store_timeout, "api-key store lookup timed out");
                Err(StoreError::timeout())
            }
        }
    }
}
