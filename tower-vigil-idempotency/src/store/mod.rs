//! [`IdempotencyStore`]: the atomic operations behind the layer, on memory, Redis and Redis
//! Cluster.
//!
//! One key holds either an **in-flight marker** (owner token, request fingerprint; its TTL is
//! the lease) or a **completed record** (fingerprint and encoded response; its TTL is the
//! retention). [`claim`](IdempotencyStore::claim) reads and, when the key is free, writes the
//! marker in one atomic step (a Lua script on Redis, [`MemoryBackend::update`] in memory,
//! both on the same hash layout), so of any number of concurrent duplicates exactly one is
//! told [`Claim::Acquired`]. Every later write checks the owner token: a holder whose lease
//! lapsed cannot overwrite the next one.
//!
//! ```
//! use std::time::Duration;
//! use bytes::Bytes;
//! use tower_vigil_core::MemoryBackend;
//! use tower_vigil_idempotency::fingerprint::Fingerprint;
//! use tower_vigil_idempotency::store::{Claim, IdempotencyStore};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_vigil_core::BackendError> {
//! let store = MemoryBackend::new();
//! let fp = Fingerprint::of(&http::Method::POST, "/pay", None, b"{}");
//! let lease = Duration::from_secs(60);
//! assert_eq!(store.claim("idempotency:{k}", &fp, b"owner-a", lease).await?, Claim::Acquired);
//! assert!(matches!(store.claim("idempotency:{k}", &fp, b"owner-b", lease).await?, Claim::InFlight { .. }));
//! assert!(store.complete("idempotency:{k}", b"owner-a", Bytes::from_static(b"rec"), Duration::from_secs(86_400)).await?);
//! assert_eq!(
//!     store.claim("idempotency:{k}", &fp, b"owner-b", lease).await?,
//!     Claim::Completed(Bytes::from_static(b"rec"))
//! );
//! # Ok(())
//! # }
//! ```

pub(crate) mod keys;
mod memory;
mod redis;

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::BackendError;
use tower_vigil_core::backend::Subscription;

use crate::fingerprint::Fingerprint;

#[cfg(doc)]
use tower_vigil_core::MemoryBackend;

/// What [`IdempotencyStore::claim`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key was free: the caller now holds the in-flight marker and runs the request.
    Acquired,
    /// Another request with the same fingerprint holds the key; its lease ends in
    /// `lease_remaining` unless renewed.
    InFlight {
        /// Time left on the holder's lease.
        lease_remaining: Duration,
    },
    /// A request with the same fingerprint completed: its encoded response.
    Completed(Bytes),
    /// The key is held or completed by a request with a different fingerprint.
    Mismatch,
}

/// The atomic operations of the idempotency layer. Implemented for
/// [`MemoryBackend`] and
/// [`RedisBackend`](tower_vigil_core::RedisBackend) (standalone and cluster); a third-party
/// backend implements it to be usable by the layer. Keys are relative to the backend prefix.
pub trait IdempotencyStore: Clone + Send + Sync + std::fmt::Debug + 'static {
    /// Atomically: if `key` is free, writes an in-flight marker for `owner` with `fingerprint`
    /// expiring after `lease` and answers [`Claim::Acquired`]; otherwise reports what holds it.
    fn claim(
        &self,
        key: &str,
        fingerprint: &Fingerprint,
        owner: &[u8],
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, BackendError>> + Send;

    /// Resets the lease of `owner`'s in-flight marker to `lease`. False when `owner` no
    /// longer holds the key.
    fn extend(
        &self,
        key: &str,
        owner: &[u8],
        lease: Duration,
    ) -> impl Future<Output = Result<bool, BackendError>> + Send;

    /// Replaces `owner`'s in-flight marker by the completed `record`, kept for `ttl`. False
    /// (and nothing written) when `owner` no longer holds the key.
    fn complete(
        &self,
        key: &str,
        owner: &[u8],
        record: Bytes,
        ttl: Duration,
    ) -> impl Future<Output = Result<bool, BackendError>> + Send;

    /// Deletes `owner`'s in-flight marker so a retry can run. False when `owner` no longer
    /// holds the key (a completed record is never deleted by this).
    fn release(
        &self,
        key: &str,
        owner: &[u8],
    ) -> impl Future<Output = Result<bool, BackendError>> + Send;

    /// Tells every instance's waiters that `key` left the in-flight state (completed or
    /// released), so they look again at once instead of at their next poll. The default does
    /// nothing: waiters then rely on polling alone.
    fn announce(&self, key: &str) -> impl Future<Output = Result<(), BackendError>> + Send {
        let _ = key;
        std::future::ready(Ok(()))
    }

    /// A subscription to [`announce`](Self::announce)ments (each message is a key), or `None`
    /// when the store has none (the default).
    fn announcements(
        &self,
    ) -> impl Future<Output = Result<Option<Subscription>, BackendError>> + Send {
        std::future::ready(Ok(None))
    }
}
