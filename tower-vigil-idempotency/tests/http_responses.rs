//! What the layer answers by itself, kind by kind: problem+json bodies and their members
//! (`reason`, `retryAfter`, the problem types and `originalStatus`/`cause`), `Retry-After`
//! only where a retry can succeed (whole seconds, rounded up, never beyond the lease left),
//! gRPC statuses for gRPC requests, the typed rejection in the extensions, and a custom
//! `.response(..)`. The answers are the layer's, the same on every backend: on memory.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::failing;
use common::{Counter, Req, anonymous_post, header, post, send, service, tester_key};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use tower_vigil_core::{MemoryBackend, Principal, Rejection};
use tower_vigil_idempotency::__private::{self as store, Fingerprint};
use tower_vigil_idempotency::{
    IdempotencyLayer, IdempotencyRejection, IdempotencyRejectionKind, KeyError, NotReplayableReason,
};

fn problem(res: &Response<Bytes>) -> serde_json::Value {
    assert_eq!(
        header(res, "content-type"),
        Some("application/problem+json")
    );
    serde_json::from_slice(res.body()).unwrap()
}

fn rejection(res: &Response<Bytes>) -> &IdempotencyRejection {
    res.extensions()
        .get::<IdempotencyRejection>()
        .expect("the rejection is in the extensions")
}

fn grpc(mut req: Req) -> Req {
    req.headers_mut()
        .insert("content-type", "application/grpc".parse().unwrap());
    req
}

fn keyed(value: &str) -> Req {
    Request::post("/ok")
        .header("idempotency-key", value)
        .extension(Principal::user(common::TESTER))
        .body(Full::new(Bytes::new()))
        .unwrap()
}

#[tokio::test]
async fn refused_keys_are_400_with_their_reason() {
    let layer = IdempotencyLayer::builder(MemoryBackend::new())
        .required(true)
        .build()
        .unwrap();
    let svc = service(layer, Counter::default());
    let missing = Request::post("/ok").body(Full::new(Bytes::new())).unwrap();
    let res = send(&svc, missing).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(rejection(&res).kind(), IdempotencyRejectionKind::MissingKey);
    let p = problem(&res);
    assert_eq!(p["reason"], "missing_key");
    assert_eq!(p["status"], 400);
    assert_eq!(p["title"], "Bad Request");
    assert_eq!(header(&res, "retry-after"), None);

    let res = send(&svc, keyed("\"\"")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(rejection(&res).kind(), IdempotencyRejectionKind::InvalidKey);
    assert_eq!(rejection(&res).key_error(), Some(KeyError::Empty));
    let p = problem(&res);
    assert_eq!(p["reason"], "invalid_key");
    assert_eq!(p["detail"], KeyError::Empty.describe());
}

#[tokio::test]
async fn an_unscoped_key_is_401_with_its_problem_type() {
    let svc = service(
        IdempotencyLayer::new(MemoryBackend::new()),
        Counter::default(),
    );
    let res = send(&svc, anonymous_post("/ok", "k", "x")).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let p = problem(&res);
    assert_eq!(p["reason"], "unscoped");
    assert!(
        p["type"]
            .as_str()
            .unwrap()
            .ends_with("enum.IdempotencyRejectionKind.html#variant.Unscoped"),
        "{p}"
    );
    let res = send(&svc, grpc(anonymous_post("/ok", "k", "x"))).await;
    assert_eq!(header(&res, "grpc-status"), Some("16"));
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_naming_the_limit() {
    let layer = IdempotencyLayer::builder(MemoryBackend::new())
        .max_request_body(10)
        .build()
        .unwrap();
    let svc = service(layer, Counter::default());
    let res = send(&svc, post("/ok", "k", "01234567890")).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(rejection(&res).body_limit(), Some(10));
    let p = problem(&res);
    assert_eq!(p["status"], 413);
    assert!(p["detail"].as_str().unwrap().contains("10 bytes"));
}

#[tokio::test]
async fn a_mismatch_is_422_or_failed_precondition() {
    let svc = service(
        IdempotencyLayer::new(MemoryBackend::new()),
        Counter::default(),
    );
    assert_eq!(send(&svc, post("/ok", "k", "a")).await.status(), 201);
    let res = send(&svc, post("/ok", "k", "b")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(&res)["reason"], "mismatch");
    assert_eq!(header(&res, "retry-after"), None);
    let res = send(&svc, grpc(post("/ok", "k", "b"))).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "grpc-status"), Some("9"));
    assert_eq!(rejection(&res).kind(), IdempotencyRejectionKind::Mismatch);
    assert!(rejection(&res).is_grpc());
}

#[tokio::test(start_paused = true)]
async fn in_flight_is_409_with_retry_after_rounded_up_and_within_the_lease() {
    let backend = MemoryBackend::new();
    // Another instance holds the key with 1.5 s of lease left.
    let fp = Fingerprint::of(&Method::POST, "/ok", None, b"x");
    let held = store::claim(
        &backend,
        &tester_key("k"),
        &fp,
        b"other",
        Duration::from_millis(1500),
    )
    .await
    .unwrap();
    assert_eq!(held, store::Claim::Acquired);

    let quick = IdempotencyLayer::builder(backend.clone())
        .retry_after(Duration::from_millis(300))
        .build()
        .unwrap();
    let res = send(&service(quick, Counter::default()), post("/ok", "k", "x")).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(header(&res, "retry-after"), Some("1"), "0.3 s is 1 s");
    let p = problem(&res);
    assert_eq!(p["reason"], "in_flight");
    assert_eq!(p["retryAfter"], 1);

    let slow = IdempotencyLayer::builder(backend)
        .retry_after(Duration::from_secs(30))
        .build()
        .unwrap();
    let res = send(&service(slow, Counter::default()), post("/ok", "k", "x")).await;
    assert_eq!(
        header(&res, "retry-after"),
        Some("2"),
        "never past the 1.5 s of lease left, rounded up"
    );
}

#[tokio::test]
async fn not_replayable_is_a_typed_409_with_the_original_status() {
    let layer = IdempotencyLayer::builder(MemoryBackend::new())
        .max_response_body(1024)
        .build()
        .unwrap();
    let svc = service(layer, Counter::default());
    assert_eq!(send(&svc, post("/big", "k", "x")).await.status(), 201);
    let res = send(&svc, post("/big", "k", "x")).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(header(&res, "retry-after"), None, "retrying cannot help");
    let r = rejection(&res);
    assert_eq!(r.kind(), IdempotencyRejectionKind::NotReplayable);
    assert_eq!(r.original_status(), Some(StatusCode::CREATED));
    assert_eq!(
        r.not_replayable_reason(),
        Some(NotReplayableReason::TooLarge)
    );
    let p = problem(&res);
    assert_eq!(p["reason"], "not_replayable");
    assert_eq!(p["originalStatus"], 201);
    assert_eq!(p["cause"], "too-large");
    assert!(
        p["type"]
            .as_str()
            .unwrap()
            .ends_with("#variant.NotReplayable")
    );
    let res = send(&svc, grpc(post("/big", "k", "x"))).await;
    assert_eq!(header(&res, "grpc-status"), Some("6"));
}

#[tokio::test]
async fn an_unreadable_record_is_500() {
    let backend = MemoryBackend::new();
    let key = tester_key("k");
    let fp = Fingerprint::of(&Method::POST, "/ok", None, b"x");
    store::claim(&backend, &key, &fp, b"old", Duration::from_secs(60))
        .await
        .unwrap();
    store::complete(
        &backend,
        &key,
        b"old",
        &Bytes::from_static(b"VIR\x09junk"),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    let svc = service(IdempotencyLayer::new(backend), Counter::default());
    let res = send(&svc, post("/ok", "k", "x")).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(problem(&res)["reason"], "unreadable_record");
    let res = send(&svc, grpc(post("/ok", "k", "x"))).await;
    assert_eq!(header(&res, "grpc-status"), Some("13"));
}

#[tokio::test]
async fn a_store_outage_is_503_with_retry_after() {
    let down = failing::refusing(MemoryBackend::new(), failing::CLAIM);
    let svc = service(IdempotencyLayer::new(down), Counter::default());
    let res = send(&svc, post("/ok", "k", "x")).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(header(&res, "retry-after"), Some("1"));
    let p = problem(&res);
    assert_eq!(p["reason"], "unavailable");
    assert_eq!(p["retryAfter"], 1);
    let res = send(&svc, grpc(post("/ok", "k", "x"))).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "grpc-status"), Some("14"));
    assert_eq!(header(&res, "grpc-retry-pushback-ms"), Some("1000"));
}

#[tokio::test]
async fn a_custom_response_answers_and_the_rejection_stays_in_the_extensions() {
    let layer = IdempotencyLayer::builder(MemoryBackend::new())
        .response(|r: &IdempotencyRejection| {
            let mut res = Response::new(Bytes::from(format!("no: {}", r.reason())));
            *res.status_mut() = r.status();
            res
        })
        .build()
        .unwrap();
    let svc = service(layer, Counter::default());
    let res = send(&svc, anonymous_post("/ok", "k", "x")).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.body(), "no: unscoped");
    assert_eq!(rejection(&res).kind(), IdempotencyRejectionKind::Unscoped);
}
