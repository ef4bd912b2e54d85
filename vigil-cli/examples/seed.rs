//! Puts some state of every concern into a Redis, as a running service would, so the `vigil`
//! commands have something to show (the README's examples were captured this way):
//!
//! ```text
//! cargo run -p vigil-cli --example seed -- redis://127.0.0.1:6390 [prefix]
//! ```
//!
//! A rate-limited caller `p:apikey:k-demo` (the flagship keys callers by principal) (policy `default`, 100 per 60 s, spent), an API key
//! cached in L2, two sessions of `alice`, and a completed idempotency key `order-42` in the
//! scope `apikey:k-demo`.
#![allow(clippy::print_stdout)]

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use tower::{ServiceBuilder, ServiceExt};
use tower_vigil_apikey::{ApiKeyCache, ApiKeyData, StaticKeyStore};
use tower_vigil_core::secret::SecretHasher;
use tower_vigil_core::{Principal, RedisBackend};
use tower_vigil_idempotency::{IdempotencyLayer, RequestBody};
use tower_vigil_ratelimit::{Acquire, Policy, Quota, acquire};
use tower_vigil_session::{Session, SessionManagerLayer};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or("usage: seed REDIS_URL [PREFIX]")?;
    let prefix = args.next().unwrap_or_else(|| "vigil".into());
    let backend = RedisBackend::builder(&url)
        .prefix(&prefix)
        .connect()
        .await?;

    let policies = [Policy::new("default", Quota::per_minute(100))?];
    for _ in 0..100 {
        acquire(&backend, Acquire::new("p:apikey:k-demo", &policies)).await?;
    }

    let store = StaticKeyStore::<()>::new();
    let raw = "vk_demo_0123456789abcdef";
    store.insert(
        &SecretHasher::sha256().hash_hex(raw.as_bytes()),
        ApiKeyData::new("k-demo", "alice"),
    );
    let cache = ApiKeyCache::new(backend.clone(), store);
    assert!(cache.check_key(raw).await.is_valid());

    let sessions = ServiceBuilder::new()
        .layer(SessionManagerLayer::new(backend.clone()))
        .service(tower::service_fn(|req: Request<String>| async move {
            let session = req.extensions().get::<Session>().expect("layer").clone();
            session.cycle_id().await.expect("cycle");
            session.set_user_id("alice").await.expect("user");
            Ok::<_, Infallible>(Response::new(String::new()))
        }));
    for _ in 0..2 {
        sessions
            .clone()
            .oneshot(Request::new(String::new()))
            .await?;
    }

    let orders = ServiceBuilder::new()
        .layer(IdempotencyLayer::new(backend.clone()))
        .service(tower::service_fn(
            |_req: Request<RequestBody<Full<Bytes>>>| async {
                let mut res = Response::new(Full::new(Bytes::from_static(b"{\"order\":42}")));
                *res.status_mut() = StatusCode::CREATED;
                Ok::<_, Infallible>(res)
            },
        ));
    let mut req = Request::post("/orders")
        .header("idempotency-key", "\"order-42\"")
        .body(Full::new(Bytes::from_static(b"{}")))?;
    req.extensions_mut().insert(Principal::api_key("k-demo"));
    orders.oneshot(req).await?;
    println!("seeded {url} under prefix {prefix:?}");
    Ok(())
}
