//! Requests per second through `IdempotencyLayer` (in-process tower service, no network):
//! a first request (fresh key every time: claim, run, capture, complete) and a replay (one
//! claim answering with the stored record), on memory and on a local redis-server this
//! benchmark starts itself. Each case runs sequentially and with 64 requests in flight.
//!
//! Run with `cargo bench -p tower-vigil-idempotency`.
#![allow(clippy::print_stdout)]

use std::convert::Infallible;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use tower::ServiceExt;
use tower::util::BoxCloneService;
use tower_vigil_core::http::ResponseBody;
use tower_vigil_core::{Backend, MemoryBackend, RedisBackend};
use tower_vigil_idempotency::{IdempotencyBody, IdempotencyLayer, RequestBody, Unscoped};
use tower_vigil_tests::RedisServer;

type Svc = BoxCloneService<Request<Full<Bytes>>, Response<Bytes>, Infallible>;

const BODY: &str = r#"{"amount":1000,"currency":"EUR","description":"benchmark order"}"#;

fn service<St: Backend>(store: St) -> Svc {
    let handler = tower::service_fn(|req: Request<RequestBody<Full<Bytes>>>| async move {
        let body = req.into_body().collect().await.unwrap().to_bytes();
        let mut res = Response::new(Full::new(body));
        *res.status_mut() = StatusCode::CREATED;
        res.headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
        Ok::<_, Infallible>(res)
    });
    let svc = tower::ServiceBuilder::new()
        // One anonymous client: the shared namespace keeps the path measured before.
        .layer(
            IdempotencyLayer::builder(store)
                .unscoped(Unscoped::SharedUnsafe)
                .build()
                .unwrap(),
        )
        .service(handler)
        .and_then(
            |res: Response<ResponseBody<IdempotencyBody<Full<Bytes>>>>| async move {
                let (parts, body) = res.into_parts();
                let bytes = body
                    .collect()
                    .await
                    .map(|c| c.to_bytes())
                    .unwrap_or_default();
                Ok::<_, Infallible>(Response::from_parts(parts, bytes))
            },
        );
    BoxCloneService::new(svc)
}

fn request(key: &str) -> Request<Full<Bytes>> {
    Request::post("/orders?expand=items")
        .header("idempotency-key", format!("\"{key}\""))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(BODY.as_bytes())))
        .unwrap()
}

/// Runs `n` requests with `concurrency` in flight; returns requests per second.
async fn measure(svc: &Svc, n: usize, concurrency: usize, key: impl Fn(usize) -> String) -> f64 {
    let start = Instant::now();
    futures_util::stream::iter(0..n)
        .map(|i| {
            let svc = svc.clone();
            let req = request(&key(i));
            async move {
                let res = svc.oneshot(req).await.unwrap();
                assert_eq!(res.status(), StatusCode::CREATED);
            }
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<()>>()
        .await;
    n as f64 / start.elapsed().as_secs_f64()
}

async fn run_backend<St: Backend>(name: &str, store: St, n: usize) {
    let svc = service(store);
    // Warm up (and store the replayed key).
    measure(&svc, n / 10, 1, |i| format!("warm-{i}")).await;
    measure(&svc, 1, 1, |_| "replayed".to_owned()).await;
    for concurrency in [1, 64] {
        let tag = format!("c{concurrency}");
        let first = measure(&svc, n, concurrency, |i| format!("{name}-{tag}-{i}")).await;
        let replay = measure(&svc, n, concurrency, |_| "replayed".to_owned()).await;
        println!(
            "{name:<7} in flight {concurrency:>2}: first request {first:>9.0} req/s, replay {replay:>9.0} req/s ({n} requests each)"
        );
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        run_backend("memory", MemoryBackend::new(), 50_000).await;
        let server = RedisServer::start();
        let redis = RedisBackend::builder(&server.url())
            .timeout(Duration::from_secs(2))
            .connect()
            .await
            .unwrap();
        run_backend("redis", redis, 10_000).await;
    });
}
