//! [`RequirePermissionLayer`] (built with [`require`]): a per-route permission check on the
//! key [`ApiKeyLayer`](crate::ApiKeyLayer) authenticated. A key without the permission gets
//! 403 (`PERMISSION_DENIED` over gRPC); a request that did not pass an `ApiKeyLayer` gets 401.
//! Both are [`ApiKeyRejection`](crate::ApiKeyRejection)s, answered like the layer's own (the
//! challenges name the realm of the `ApiKeyLayer` in front).
//!
//! ```
//! use axum::{Router, routing::post};
//! use http::{Request, StatusCode};
//! use tower::ServiceExt;
//! use tower_vigil_apikey::{ApiKeyCache, ApiKeyData, ApiKeyLayer, StaticKeyStore, require};
//! use tower_vigil_core::MemoryBackend;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = StaticKeyStore::new();
//! let cache = ApiKeyCache::new(MemoryBackend::new(), store.clone());
//! store.insert(&cache.hash_key("reader-key-000000001"), ApiKeyData::new("k-r", "u-1").permission("read"));
//!
//! let app = Router::new()
//!     .route("/analyze", post(|| async { "done" }).layer(require("analyze")?))
//!     .layer(ApiKeyLayer::new(cache));
//!
//! let req = Request::post("/analyze").header("x-api-key", "reader-key-000000001").body(axum::body::Body::empty())?;
//! let res = app.oneshot(req).await?;
//! assert_eq!(res.status(), StatusCode::FORBIDDEN);
//! # Ok(())
//! # }
//! ```

mod builder;
mod future;
mod layer;
mod service;

pub use self::builder::{RequirePermissionLayerBuilder, require};
pub use self::future::RequireFuture;
pub use self::layer::RequirePermissionLayer;
pub use self::service::RequirePermission;
