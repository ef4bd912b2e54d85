//! [`KeyStore`]: your source of truth (a database), looked up by the key's hash; and
//! [`StaticKeyStore`], an in-memory one for tests, examples and small fixed key sets.
//!
//! ```
//! use tower_vigil_apikey::{ApiKeyData, KeyStore, StaticKeyStore};
//! use tower_vigil_core::secret::SecretHasher;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let hasher = SecretHasher::sha256();
//! let store = StaticKeyStore::new();
//! store.insert(&hasher.hash_hex(b"vg_demo-key-0123456789"), ApiKeyData::new("k-demo", "u-1"));
//!
//! let hash = hasher.hash_hex(b"vg_demo-key-0123456789");
//! assert_eq!(store.lookup(&hash).await.unwrap().unwrap().id, "k-demo");
//! assert!(store.lookup(&hasher.hash_hex(b"other")).await.unwrap().is_none());
//! # }
//! ```

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use parking_lot::RwLock;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ApiKeyData;

/// The user's key database. Looked up by the key's hash (64 lowercase hex characters, SHA-256
/// or HMAC-SHA256 with the configured pepper): store that hash when you issue a key, never the
/// key. `Ok(None)` means "no such key" and is cached negatively.
pub trait KeyStore: Send + Sync + 'static {
    /// Your own fields carried in [`ApiKeyData::extra`] (use `()` for none).
    type Extra: Serialize + DeserializeOwned + Clone + Send + Sync + 'static;

    /// The key whose hash is `key_hash`, if it exists (revoked keys must not).
    fn lookup(
        &self,
        key_hash: &str,
    ) -> impl Future<Output = Result<Option<ApiKeyData<Self::Extra>>, StoreError>> + Send;
}

impl<K: KeyStore> KeyStore for Arc<K> {
    type Extra = K::Extra;

    fn lookup(
        &self,
        key_hash: &str,
    ) -> impl Future<Output = Result<Option<ApiKeyData<Self::Extra>>, StoreError>> + Send {
        (**self).lookup(key_hash)
    }
}

type Source = Box<dyn StdError + Send + Sync + 'static>;

/// The category of a [`StoreError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The store reported a failure.
    Failed,
    /// The store did not answer within the cache's store timeout.
    Timeout,
}

/// A failed [`KeyStore`] lookup (the database is down, a query failed, it timed out).
pub struct StoreError {
    kind: StoreErrorKind,
    message: String,
    source: Option<Source>,
}

impl StoreError {
    /// A failure described by `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            kind: StoreErrorKind::Failed,
            message: message.into(),
            source: None,
        }
    }

    /// A failure caused by `source`.
    pub fn with_source(message: impl Into<String>, source: impl Into<Source>) -> Self {
        Self {
            kind: StoreErrorKind::Failed,
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// The lookup took longer than the cache's store timeout.
    pub fn timeout() -> Self {
        Self {
            kind: StoreErrorKind::Timeout,
            message: "the key store did not answer in time".into(),
            source: None,
        }
    }

    /// The category.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }
}

impl fmt::Debug for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key store lookup failed: {}", self.message)
    }
}

impl StdError for StoreError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

/// An in-memory [`KeyStore`]: a map from key hash to data. Clones share the map.
pub struct StaticKeyStore<T = ()> {
    keys: Arc<RwLock<HashMap<String, ApiKeyData<T>>>>,
}

impl<T> StaticKeyStore<T> {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            keys: Arc::default(),
        }
    }

    /// Adds or replaces the key whose hash is `key_hash`.
    pub fn insert(&self, key_hash: &str, data: ApiKeyData<T>) {
        self.keys.write().insert(key_hash.to_owned(), data);
    }

    /// Removes the key whose hash is `key_hash`; true when it was there. Call
    /// [`ApiKeyCache::invalidate_hash`](crate::ApiKeyCache::invalidate_hash) afterwards so the
    /// caches forget it too.
    pub fn remove(&self, key_hash: &str) -> bool {
        self.keys.write().remove(key_hash).is_some()
    }

    /// How many keys the store holds.
    pub fn len(&self) -> usize {
        self.keys.read().len()
    }

    /// True when the store holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Clone for StaticKeyStore<T> {
    fn clone(&self) -> Self {
        Self {
            keys: Arc::clone(&self.keys),
        }
    }
}

impl<T> Default for StaticKeyStore<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for StaticKeyStore<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticKeyStore")
            .field("keys", &self.len())
            .finish()
    }
}

impl<T> KeyStore for StaticKeyStore<T>
where
    T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
{
    type Extra = T;

    fn lookup(
        &self,
        key_hash: &str,
    ) -> impl Future<Output = Result<Option<ApiKeyData<T>>, StoreError>> + Send {
        let found = self.keys.read().get(key_hash).cloned();
        std::future::ready(Ok(found))
    }
}
