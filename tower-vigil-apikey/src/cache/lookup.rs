//! The lookup path: L1, then (coalesced per key) L2 and the store, with the
//! [failure policy](super::failure_policy) deciding when either fails.

use std::future::Future;
use std::sync::Arc;

use moka::ops::compute::Op;
use tokio::time::Instant;
use tower_vigil_core::Backend;

use super::config::RACE_ROUNDS;
use super::failure_policy::shared;
use super::l1::Entry;
use super::state::Inner;
use super::{l2, record};
use crate::metrics::{self, inc};
use crate::{ApiKeyData, Authenticated, KeyStore, StoreError};

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

impl<B: Backend, K: KeyStore> Inner<B, K> {
    pub(crate) async fn lookup(&self, hash: &str) -> Result<Found<K::Extra>, StoreError> {
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

    /// L1's entry for `hash`, looked up on the caller's thread: moka's lookup is a future
    /// that only waits when its internal maintenance is contended; it is polled once, and a
    /// lookup that would wait answers `None` (not known, which is always safe to say: the
    /// caller then takes the awaited path).
    fn entry_now(&self, hash: &str) -> Option<Arc<Entry<K::Extra>>> {
        let lookup = std::pin::pin!(self.l1.get(hash));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match lookup.poll(&mut cx) {
            std::task::Poll::Ready(entry) => entry,
            std::task::Poll::Pending => None,
        }
    }

    /// True when L1 holds `hash` as a valid key, unexpired at `now`, and no revocation of it
    /// arrived since it was filled; not counted as a hit. Unlike a lookup, the entry need not
    /// be fresh: this says the key was verified here and not revoked since (so it is no
    /// guess), not that it may be served without asking. A busy client's key would otherwise
    /// stop being known each time its entry ages out, for as long as the revalidation takes.
    pub(crate) fn known_valid(&self, hash: &str, now: std::time::SystemTime) -> bool {
        self.entry_now(hash).is_some_and(|entry| {
            !self.local.invalidated_since(hash, &entry)
                && entry
                    .found
                    .as_ref()
                    .is_some_and(|found| !found.data().is_expired_at(now))
        })
    }

    /// What L1 answers for `hash` right now, counted as a hit; `None`: no fresh entry, so
    /// [`lookup`](Self::lookup) must be awaited.
    pub(crate) fn lookup_now(&self, hash: &str) -> Option<Found<K::Extra>> {
        self.entry_now(hash)
            .filter(|entry| self.local.is_fresh(hash, entry))
            .map(|entry| self.l1_hit(&entry))
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
                        self.store_failed(hash, e.kind()).await;
                        *slot = Some(self.servable_stale(current.as_ref()).ok_or(e));
                        Op::Nop
                    }
                }
            })
            .await;
        out.unwrap_or_else(|| Err(StoreError::new("lookup did not complete")))
    }

    /// L2, then the store; fills L2 unless a revocation raced the lookup.
    async fn fetch(&self, hash: &str) -> Result<Fetched<K::Extra>, FetchError> {
        if self.backend_paused() {
            return Err(FetchError::Backend);
        }
        for _ in 0..RACE_ROUNDS {
            let (cached, rev) =
                metrics::timed(metrics::op::READ, l2::read_record(&self.backend, hash))
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
                l2::fill_record(&self.backend, hash, rev, &value, ttl),
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

    pub(crate) async fn store_lookup(
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
