//! [`ApiKeyLayer`]: API-key authentication for any tower HTTP service.
//!
//! The key is read from `X-API-Key` (name configurable) or `Authorization: Bearer`
//! (`credential`), and the [`ApiKeyCache`](crate::ApiKeyCache) says what it is
//! ([`KeyStatus`](crate::KeyStatus): format, lookup, expiry). On success the request carries,
//! in its extensions, `Arc<ApiKeyData<T>>`, a [`Principal`](tower_vigil_core::Principal),
//! [`Permissions`](crate::Permissions) and [`Authenticated<T>`](crate::Authenticated).
//! Otherwise the service answers an [`ApiKeyRejection`](crate::ApiKeyRejection): 401 (503
//! when nothing can answer) as problem+json with `WWW-Authenticate`, or a gRPC status; the
//! rejection is in the response's extensions.
//!
//! ```
//! use http::{Request, StatusCode};
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_vigil_apikey::{ApiKeyCache, ApiKeyData, ApiKeyLayer, StaticKeyStore};
//! use tower_vigil_core::{MemoryBackend, Principal};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = StaticKeyStore::new();
//! let cache = ApiKeyCache::builder(MemoryBackend::new(), store.clone()).build()?;
//! store.insert(&cache.hash_key("my-secret-key-0001"), ApiKeyData::new("k-1", "u-1"));
//!
//! let svc = ServiceBuilder::new()
//!     .layer(ApiKeyLayer::builder(cache).strip_credentials(true).build()?)
//!     .service_fn(|req: Request<String>| async move {
//!         let who = Principal::from_extensions(req.extensions()).unwrap().id().to_owned();
//!         assert!(req.headers().get("x-api-key").is_none()); // stripped
//!         Ok::<_, std::convert::Infallible>(http::Response::new(who))
//!     });
//!
//! let ok = svc.clone()
//!     .oneshot(Request::builder().header("x-api-key", "my-secret-key-0001").body(String::new())?)
//!     .await?;
//! assert_eq!(ok.status(), StatusCode::OK);
//!
//! let denied = svc.oneshot(Request::new(String::new())).await?;
//! assert_eq!(denied.status(), StatusCode::UNAUTHORIZED);
//! assert!(denied.headers().contains_key("www-authenticate"));
//! # Ok(())
//! # }
//! ```

mod builder;
pub(crate) mod credential;
mod future;
mod layer;
mod service;

pub use self::builder::ApiKeyLayerBuilder;
pub use self::future::ResponseFuture;
pub use self::layer::ApiKeyLayer;
pub use self::service::ApiKey;
