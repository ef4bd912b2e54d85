//! A full Redis, on a server and on a 3-master cluster (each its own: a full Redis breaks any
//! test sharing it):
//!
//! - `noeviction`: a claim is refused with `OutOfMemory`: 503 (fail closed, the default) or
//!   the request runs without idempotency (fail open), counted either way. A request claimed
//!   before Redis filled up still has its outcome stored (a retry replays it).
//! - `allkeys-lru` (what the original Node system recommended): the stored record is evicted
//!   and a retry runs the handler a second time. The health probe warns about exactly this.

mod common;

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use common::{Counter, Req, Svc, header, post, rejection, send, tester_key};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use tokio::sync::Notify;
use tower::ServiceExt;
use tower::util::BoxCloneService;
use tower_vigil_core::http::ResponseBody;
use tower_vigil_core::{Backend, FailurePolicy, RedisBackend, health};
use tower_vigil_idempotency::{
    IdempotencyBody, IdempotencyLayer, IdempotencyRejectionKind, RequestBody,
};
use tower_vigil_tests::metrics::Counters;
use tower_vigil_tests::pressure::{Filled, Pressure};
use tower_vigil_tests::{RedisCluster, RedisServer, fixtures};

/// Where the handler stops until the test lets it finish.
#[derive(Clone, Default)]
struct Gate {
    entered: Arc<Notify>,
    release: Arc<Notify>,
}

/// The layer over a handler that counts its runs and waits at `gate` before answering 201.
fn gated_service(layer: IdempotencyLayer<RedisBackend>, runs: Counter, gate: Gate) -> Svc {
    let handler = tower::service_fn(move |_req: Request<RequestBody<Full<Bytes>>>| {
        let (runs, gate) = (runs.clone(), gate.clone());
        async move {
            runs.bump();
            gate.entered.notify_one();
            gate.release.notified().await;
            let mut res = Response::new(Full::new(Bytes::from_static(b"done")));
            *res.status_mut() = StatusCode::CREATED;
            Ok::<_, Infallible>(res)
        }
    });
    let svc = tower::ServiceBuilder::new()
        .layer(layer)
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

/// Sends `req` through `svc`, letting the handler through at once.
async fn run(svc: &Svc, gate: &Gate, req: Req) -> Response<Bytes> {
    gate.release.notify_one();
    send(svc, req).await
}

async fn full_redis_never_loses_an_outcome_silently(backend: RedisBackend, pressure: &Pressure) {
    let counters = Counters::default();
    let _recorder = counters.install();
    let (runs, gate) = (Counter::default(), Gate::default());
    let svc = gated_service(
        IdempotencyLayer::new(backend.clone()),
        runs.clone(),
        gate.clone(),
    );
    let open = gated_service(
        IdempotencyLayer::builder(backend.clone())
            .failure_policy(FailurePolicy::Open)
            .build()
            .unwrap(),
        runs.clone(),
        gate.clone(),
    );

    // Claimed while Redis has room; Redis fills up while the handler runs.
    let pending = tokio::spawn(send(&svc, post("/pay", "mid", "x")));
    gate.entered.notified().await;
    pressure.limit(2 << 20, "noeviction");
    assert_eq!(pressure.exhaust(), Filled::Refused);
    gate.release.notify_one();
    let first = pending.await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    // Kept although Redis is full: complete.lua's first write (HDEL) needs no memory, and Redis
    // lets a script that has written finish past `maxmemory`, so work that already ran is
    // never lost for want of memory. (Were it refused, the answer would say `not-stored`.)
    assert_eq!(header(&first, "idempotency-status"), None, "{first:?}");

    // New claims are refused: 503, the handler does not run.
    let res = send(&svc, post("/pay", "new", "x")).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(rejection(&res), Some(IdempotencyRejectionKind::Unavailable));
    assert_eq!(runs.get(), 1);
    // Failing open runs it without idempotency.
    assert_eq!(
        run(&open, &gate, post("/pay", "new", "x")).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(runs.get(), 2);
    assert_eq!(
        counters.get(tower_vigil_idempotency::metrics::BACKEND_ERRORS_TOTAL),
        2
    );

    // Memory freed: a retry of the request answered during the fill replays it.
    pressure.relieve();
    let retry = run(&svc, &gate, post("/pay", "mid", "x")).await;
    assert_eq!(
        header(&retry, "idempotent-replayed"),
        Some("true"),
        "{retry:?}"
    );
    assert_eq!(runs.get(), 2, "the outcome said to be stored was stored");
}

async fn evicting_redis_executes_twice(backend: RedisBackend, pressure: &Pressure) {
    let (runs, gate) = (Counter::default(), Gate::default());
    let svc = gated_service(
        IdempotencyLayer::new(backend.clone()),
        runs.clone(),
        gate.clone(),
    );
    assert_eq!(
        run(&svc, &gate, post("/pay", "once", "x")).await.status(),
        StatusCode::CREATED
    );
    let replay = run(&svc, &gate, post("/pay", "once", "x")).await;
    assert_eq!(header(&replay, "idempotent-replayed"), Some("true"));

    pressure.limit(2 << 20, "allkeys-lru");
    let report = health::check(&backend).await;
    assert_eq!(
        report.status, "degraded",
        "the probe warns before it happens"
    );
    assert_eq!(pressure.exhaust(), Filled::Evicting);
    let record = tester_key("once");
    for _ in 0..50 {
        if backend.ttl(&record).await.unwrap().is_none() {
            break;
        }
        pressure.fill_more(8);
    }
    assert_eq!(
        backend.ttl(&record).await.unwrap(),
        None,
        "the record was evicted"
    );
    pressure.relieve();

    // The same request again: the handler runs a second time.
    let again = run(&svc, &gate, post("/pay", "once", "x")).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(header(&again, "idempotent-replayed"), None);
    assert_eq!(
        runs.get(),
        2,
        "executed twice: allkeys-lru broke the guarantee"
    );
}

#[tokio::test]
async fn redis() {
    let server = RedisServer::start();
    let pressure = Pressure::on_server(&server);
    full_redis_never_loses_an_outcome_silently(fixtures::redis_on(&server.url()).await, &pressure)
        .await;
    evicting_redis_executes_twice(fixtures::redis_on(&server.url()).await, &pressure).await;
}

#[tokio::test]
async fn cluster() {
    let cluster = RedisCluster::start();
    let pressure = Pressure::on_cluster(&cluster);
    full_redis_never_loses_an_outcome_silently(
        fixtures::cluster_on(&cluster.urls()).await,
        &pressure,
    )
    .await;
    evicting_redis_executes_twice(fixtures::cluster_on(&cluster.urls()).await, &pressure).await;
}
