//! # tower-vigil-apikey
//!
//! API-key authentication for tower services (Axum, Tonic, Hyper) with a two-tier cache in
//! front of your key database:
//!
//! - **[`ApiKeyLayer`]** reads `X-API-Key` or `Authorization: Bearer`, rejects malformed or
//!   badly formatted keys with 401 before any lookup, and puts the key's [`ApiKeyData`], a
//!   [`Principal`](tower_vigil_core::Principal) and its [`Permissions`] into the request.
//!   [`require`] adds a per-route permission check (403). Every refusal is an
//!   [`ApiKeyRejection`], answered as problem+json with `WWW-Authenticate` challenges (or a
//!   gRPC status) unless the layer's builder is given another `.response(..)`.
//! - **[`ApiKeyCache`]** answers what a key is ([`KeyStatus`]): in-process L1 (bounded, 30 s)
//!   → backend L2 (`apikey:{sha256}`, 5 minutes) → your [`KeyStore`] (your database, the
//!   truth). Concurrent misses coalesce into one store lookup; unknown
//!   keys are cached negatively (30 s); the raw key is never stored or logged, only its
//!   SHA-256 (or HMAC-SHA256 with a pepper).
//! - **Revocation**: [`ApiKeyCache::invalidate_hash`] evicts a key from every instance's L1
//!   (pub/sub) and from L2; a per-key revocation generation makes sure a cache fill racing the
//!   revocation never brings the key back. While the invalidation subscription is down, L1
//!   entries are revalidated before use.
//! - **Failure policy**: the backend is a cache, the store the truth. With the backend down,
//!   every key is looked up in the store directly (still coalesced), so a key revoked there is
//!   rejected at once; a key this instance validated within `stale_if_error` (5 minutes) is
//!   served from L1 only when the store fails too, and a recent "no such key" answers without
//!   the store. 503 only when the store fails and nothing stale may stand in.
//! - **Issuing keys**: [`generate_key`] makes `vg_…` keys with a checksum that
//!   [`KeyFormat::issued`] verifies.
//!
//! ```
//! use axum::{Extension, Router, routing::get};
//! use http::{Request, StatusCode};
//! use std::sync::Arc;
//! use tower::ServiceExt;
//! use tower_vigil_apikey::{ApiKeyCache, ApiKeyData, ApiKeyLayer, KeyFormat, StaticKeyStore, generate_key};
//! use tower_vigil_core::MemoryBackend;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Your database; here an in-memory map from key hash to key data.
//! let store = StaticKeyStore::new();
//! let cache = ApiKeyCache::builder(MemoryBackend::new(), store.clone())
//!     .format(KeyFormat::issued("vg")?)
//!     .build()?;
//!
//! // Issue a key: hand `key` to the client once, store only its hash.
//! let key = generate_key("vg")?;
//! store.insert(&cache.hash_key(&key), ApiKeyData::new("k-demo", "u-1").permission("analyze"));
//!
//! let app = Router::new()
//!     .route("/me", get(|Extension(data): Extension<Arc<ApiKeyData>>| async move { data.user_id.clone() }))
//!     .layer(ApiKeyLayer::new(cache.clone()));
//!
//! let req = Request::get("/me").header("authorization", format!("Bearer {key}")).body(axum::body::Body::empty())?;
//! assert_eq!(app.clone().oneshot(req).await?.status(), StatusCode::OK);
//!
//! // A typo fails the checksum: 401 without touching the caches or the store.
//! let req = Request::get("/me").header("x-api-key", "vg_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_AAAAAA").body(axum::body::Body::empty())?;
//! assert_eq!(app.oneshot(req).await?.status(), StatusCode::UNAUTHORIZED);
//! # Ok(())
//! # }
//! ```
//!
//! ## Your key store and an admin endpoint
//!
//! Implement [`KeyStore`] over your database, keyed by the hash. Revoke by deleting the key
//! there, then calling [`ApiKeyCache::invalidate_hash`] (every instance forgets it within
//! moments; a lookup racing the revocation cannot bring it back).
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::{Arc, Mutex};
//! use axum::{Router, extract::{Path, State}, http::StatusCode, routing::delete};
//! use tower_vigil_apikey::{ApiKeyCache, ApiKeyData, KeyStore, StoreError};
//! use tower_vigil_core::MemoryBackend;
//!
//! /// Stands in for a database table `api_keys(hash, id, user_id, permissions, …)`.
//! #[derive(Clone, Default)]
//! struct Db(Arc<Mutex<HashMap<String, ApiKeyData>>>);
//!
//! impl KeyStore for Db {
//!     type Extra = ();
//!     async fn lookup(&self, key_hash: &str) -> Result<Option<ApiKeyData>, StoreError> {
//!         Ok(self.0.lock().map_err(|_| StoreError::new("poisoned"))?.get(key_hash).cloned())
//!     }
//! }
//!
//! type Cache = ApiKeyCache<MemoryBackend, Db>;
//!
//! async fn revoke(State((db, cache)): State<(Db, Cache)>, Path(id): Path<String>) -> StatusCode {
//!     let hash = {
//!         let mut rows = db.0.lock().unwrap();
//!         let Some(hash) = rows.iter().find(|(_, d)| d.id == id).map(|(h, _)| h.clone()) else {
//!             return StatusCode::NOT_FOUND;
//!         };
//!         rows.remove(&hash);
//!         hash
//!     };
//!     match cache.invalidate_hash(&hash).await {
//!         Ok(()) => StatusCode::NO_CONTENT,
//!         // The key is gone from the database; caches forget it within their TTLs. Retry.
//!         Err(_) => StatusCode::SERVICE_UNAVAILABLE,
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let db = Db::default();
//! let cache: Cache = ApiKeyCache::new(MemoryBackend::new(), db.clone());
//! let admin: Router = Router::new()
//!     .route("/admin/keys/{id}", delete(revoke))
//!     .with_state((db, cache));
//! # let _ = admin;
//! # Ok(())
//! # }
//! ```
//!
//! ## Metrics
//!
//! Counters under `vigil_apikey_*` (see [`metrics`]): L1 hits, L2 hits, negative hits,
//! invalidations, key-store lookups, backend errors and stale serves, plus a latency histogram
//! of backend calls and key-store lookups. Building a cache registers their descriptions.
//!
//! ## Why the layer takes a cache
//!
//! Every tower-vigil layer is made by `XLayer::new(..)` (defaults) or
//! `XLayer::builder(..)…build()`. Here the argument is the [`ApiKeyCache`], itself made by
//! `ApiKeyCache::new(backend, key_store)` or `ApiKeyCache::builder(backend, key_store)…build()`:
//! the cache is what the application keeps to revoke keys, and one cache (one in-process
//! tier, one invalidation subscription) serves every layer built from it, say an HTTP router
//! and a gRPC server reading the key from different headers.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// Entry points for the fuzz targets into internal parsers. Not API (see the module).
#[doc(hidden)]
#[path = "fuzzing.rs"]
pub mod __fuzz;
mod auth;
mod cache;
mod data;
mod format;
mod identity;
mod key_store;
mod keys;
pub mod metrics;
mod rejection;
mod require;
mod valid_until;

pub use crate::auth::{ApiKey, ApiKeyLayer, ApiKeyLayerBuilder, ResponseFuture};
pub use crate::cache::{
    ApiKeyCache, ApiKeyCacheBuilder, CacheStats, DEFAULT_L1_CAPACITY, DEFAULT_L1_TTL,
    DEFAULT_L2_TTL, DEFAULT_NEGATIVE_TTL, DEFAULT_STALE_IF_ERROR, DEFAULT_STORE_TIMEOUT, KeyStatus,
};
pub use crate::data::ApiKeyData;
pub use crate::format::{KeyFormat, MAX_KEY_LEN, MIN_KEY_LEN, generate_key, verify_format};
pub use crate::identity::{Authenticated, Permissions};
pub use crate::key_store::{KeyStore, StaticKeyStore, StoreError, StoreErrorKind};
pub use crate::keys::INVALIDATION_CHANNEL;
pub use crate::rejection::{ApiKeyRejection, ApiKeyRejectionKind};
pub use crate::require::{
    RequireFuture, RequirePermission, RequirePermissionLayer, RequirePermissionLayerBuilder,
    require,
};
pub use crate::valid_until::ValidUntil;

/// Internals the crate's own tests reach (the shared tier's scripts, called by key hash, and
/// the key names they use).
/// **Not API**: hidden from the docs, exempt from semver, and may change or vanish in any
/// release.
#[doc(hidden)]
pub mod __private {
    pub use crate::cache::l2::{fill_record, read_record, revoke_record};
    pub use crate::keys::record_keys;
}
