//! [`KeyStatus`]: what the cache knows about a credential. The cache answers it; turning it
//! into an HTTP or gRPC rejection is [`ApiKeyLayer`](crate::ApiKeyLayer)'s job.

use crate::{Authenticated, StoreError};

/// The answer of [`ApiKeyCache::check_key`](crate::ApiKeyCache::check_key).
///
/// ```
/// use tower_vigil_apikey::{ApiKeyCache, ApiKeyData, KeyStatus, StaticKeyStore};
/// use tower_vigil_core::MemoryBackend;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let store = StaticKeyStore::new();
/// let cache = ApiKeyCache::new(MemoryBackend::new(), store.clone());
/// store.insert(&cache.hash_key("a-valid-key-0000001"), ApiKeyData::new("k-1", "u-1"));
///
/// match cache.check_key("a-valid-key-0000001").await {
///     KeyStatus::Valid(who) => assert_eq!(who.principal().id(), "k-1"),
///     other => panic!("{other:?}"),
/// }
/// assert!(matches!(cache.check_key("no-such-key-0000001").await, KeyStatus::Unknown));
/// assert!(matches!(cache.check_key("short").await, KeyStatus::InvalidFormat));
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum KeyStatus<T = ()> {
    /// A key that exists and has not expired.
    Valid(Authenticated<T>),
    /// Not in the cache's [`KeyFormat`](crate::KeyFormat) (or a failed checksum): nothing was
    /// looked up.
    InvalidFormat,
    /// No such key, or it was revoked.
    Unknown,
    /// The key exists but is past its `valid_until`.
    Expired(Authenticated<T>),
    /// The key store failed (or timed out) and no cached answer could stand in.
    Unavailable(StoreError),
}

impl<T> KeyStatus<T> {
    /// True for [`Valid`](Self::Valid).
    pub fn is_valid(&self) -> bool {
        matches!(self, Self::Valid(_))
    }

    /// The key, when [`Valid`](Self::Valid).
    pub fn valid(self) -> Option<Authenticated<T>> {
        match self {
            Self::Valid(who) => Some(who),
            _ => None,
        }
    }
}
