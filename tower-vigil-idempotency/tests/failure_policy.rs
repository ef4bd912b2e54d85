//! A stopped Redis: the layer fails closed (503) by default, quickly, and passes requests
//! through when set to fail open; once Redis is back it works again without a restart.

mod common;

use std::time::Duration;

use common::{Counter, header, post, rejection, send, service};
use http::StatusCode;
use tower_vigil_core::{FailurePolicy, RedisBackend};
use tower_vigil_idempotency::{IdempotencyLayer, IdempotencyRejectionKind};
use tower_vigil_tests::RedisServer;

async fn backend(server: &RedisServer) -> RedisBackend {
    RedisBackend::builder(&server.url())
        .prefix(tower_vigil_tests::fixtures::unique_prefix())
        .timeout(Duration::from_millis(300))
        .connect()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_redis_gives_503_then_recovers() {
    let mut server = RedisServer::start();
    let runs = Counter::default();
    let svc = service(IdempotencyLayer::new(backend(&server).await), runs.clone());
    assert_eq!(send(&svc, post("/ok", "k", "x")).await.status(), 201);

    server.stop();
    let bounded = tokio::time::timeout(Duration::from_secs(5), send(&svc, post("/ok", "k2", "x")));
    let res = bounded.await.expect("no request hangs on a dead Redis");
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(header(&res, "retry-after"), Some("1"));
    assert_eq!(rejection(&res), Some(IdempotencyRejectionKind::Unavailable));
    assert_eq!(runs.get(), 1);

    server.restart();
    let mut recovered = false;
    for _ in 0..100 {
        if send(&svc, post("/ok", "k3", "x")).await.status() == StatusCode::CREATED {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the layer works again once Redis is back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_redis_with_fail_open_runs_the_request() {
    let mut server = RedisServer::start();
    let runs = Counter::default();
    let layer = IdempotencyLayer::builder(backend(&server).await)
        .failure_policy(FailurePolicy::Open)
        .build()
        .unwrap();
    let svc = service(layer, runs.clone());
    server.stop();
    let res = send(&svc, post("/ok", "k", "x")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.body(), "x");
    assert_eq!(runs.get(), 1);
}
