//! Memory in Redis: `used_memory` growth and `MEMORY USAGE` of the keys after creating
//! `n` items of each kind through our stores and layers, on a fresh redis-server, `FLUSHALL`
//! between kinds.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use tower::{ServiceBuilder, ServiceExt, service_fn};
use tower_vigil_core::RedisBackend;
use tower_vigil_idempotency::{IdempotencyLayer, RequestBody, Unscoped};
use tower_vigil_ratelimit::{Acquire, Algorithm, Policy, Quota, acquire};
use tower_vigil_session::{Session, SessionManagerLayer};
use tower_vigil_tests::RedisServer;

use crate::stats::median;

pub(crate) struct MemoryRow {
    pub(crate) kind: &'static str,
    pub(crate) items: usize,
    pub(crate) keys: u64,
    /// `used_memory` growth per item.
    pub(crate) per_item: f64,
    /// Median `MEMORY USAGE` of 50 random keys.
    pub(crate) memory_usage: f64,
}

const IN_FLIGHT: usize = 64;

fn info_field(server: &RedisServer, section: &str, field: &str) -> u64 {
    let text = server.command(&["INFO", section]).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

async fn rate_limit(store: &RedisBackend, algorithm: Algorithm, items: usize) {
    // The sliding log is measured full (limit 100, one call of cost 100 per key); the others
    // after one admitted request.
    let (quota, cost) = match algorithm {
        Algorithm::SlidingWindowLog => (Quota::per_minute(100), 100),
        // A long period keeps every key alive while the 100,000 are created.
        _ => (Quota::per_hour(100), 1),
    };
    let policies: Arc<[Policy]> =
        Arc::new([Policy::with_algorithm("default", quota, algorithm).expect("policy")]);
    stream::iter(0..items)
        .map(|i| {
            let (store, policies) = (store.clone(), policies.clone());
            async move {
                let key = format!("ip:10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255);
                let d = acquire(&store, Acquire::new(&key, &policies).cost(cost))
                    .await
                    .expect("acquire");
                assert!(d.allowed(), "the first request of a key is admitted");
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .for_each(|()| async {})
        .await;
}

async fn sessions(store: &RedisBackend, items: usize) {
    let svc = ServiceBuilder::new()
        .layer(SessionManagerLayer::new(store.clone()))
        .service(service_fn(|req: Request<String>| async move {
            let session = req.extensions().get::<Session>().expect("session").clone();
            session.insert("user", "u-12345").await.expect("insert");
            Ok::<_, Infallible>(Response::new(String::new()))
        }));
    stream::iter(0..items)
        .map(|_| {
            let svc = svc.clone();
            async move {
                let res = svc
                    .oneshot(Request::new(String::new()))
                    .await
                    .expect("call");
                assert_eq!(res.status(), StatusCode::OK);
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .for_each(|()| async {})
        .await;
}

const ORDER: &str = r#"{"amount":1000,"currency":"EUR","description":"benchmark order"}"#;

async fn idempotency(store: &RedisBackend, items: usize) {
    let svc = ServiceBuilder::new()
        // One anonymous client: the shared namespace keeps the records measured before.
        .layer(
            IdempotencyLayer::builder(store.clone())
                .unscoped(Unscoped::SharedUnsafe)
                .build()
                .expect("idempotency layer"),
        )
        .service(service_fn(
            |_req: Request<RequestBody<Full<Bytes>>>| async move {
                let mut res = Response::new(Full::new(Bytes::from_static(ORDER.as_bytes())));
                *res.status_mut() = StatusCode::CREATED;
                res.headers_mut().insert(
                    "content-type",
                    http::HeaderValue::from_static("application/json"),
                );
                Ok::<_, Infallible>(res)
            },
        ));
    stream::iter(0..items)
        .map(|i| {
            let svc = svc.clone();
            async move {
                let req = Request::post("/orders")
                    .header("idempotency-key", format!("\"order-{i:08}\""))
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from_static(ORDER.as_bytes())))
                    .expect("request");
                let res = svc.oneshot(req).await.expect("call");
                assert_eq!(res.status(), StatusCode::CREATED);
                // The record is written once the body has been read.
                let _ = http_body_util::BodyExt::collect(res.into_body()).await;
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .for_each(|()| async {})
        .await;
}

pub(crate) async fn run(items: usize) -> Vec<MemoryRow> {
    let server = RedisServer::start();
    let store = crate::server::bench_backend(&server.url()).await;
    let kinds: [&'static str; 5] = [
        "GCRA key",
        "token bucket key",
        "sliding log, 100 entries",
        "session (one field)",
        "idempotency record",
    ];
    let mut rows = Vec::new();
    for kind in kinds {
        server.command(&["FLUSHALL"]);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let before = info_field(&server, "memory", "used_memory");
        match kind {
            "GCRA key" => rate_limit(&store, Algorithm::Gcra, items).await,
            "token bucket key" => rate_limit(&store, Algorithm::TokenBucket, items).await,
            "sliding log, 100 entries" => {
                rate_limit(&store, Algorithm::SlidingWindowLog, items).await;
            }
            "session (one field)" => sessions(&store, items).await,
            _ => idempotency(&store, items).await,
        }
        // Idempotency records are completed after the response: let the last ones land.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let after = info_field(&server, "memory", "used_memory");
        let keys = server
            .command(&["DBSIZE"])
            .and_then(|s| s.trim_start_matches(':').parse().ok())
            .unwrap_or(0);
        let usage: Vec<f64> = (0..50)
            .filter_map(|_| server.command(&["RANDOMKEY"]))
            .filter(|k| !k.is_empty())
            .filter_map(|k| server.command(&["MEMORY", "USAGE", &k, "SAMPLES", "0"]))
            .filter_map(|v| v.trim_start_matches(':').parse().ok())
            .collect();
        let row = MemoryRow {
            kind,
            items,
            keys,
            per_item: after.saturating_sub(before) as f64 / items as f64,
            memory_usage: median(&usage),
        };
        eprintln!(
            "memory: {:<26} {} items, {} keys, {:.0} B/item (used_memory), MEMORY USAGE {:.0} B",
            row.kind, row.items, row.keys, row.per_item, row.memory_usage
        );
        rows.push(row);
    }
    rows
}
