//! Crashes, hangs, panics, disconnects, 5xx (replayed, or freed on request), oversized
//! bodies (run once, then 409), unreadable records and gRPC statuses, on memory, Redis and
//! the 3-master cluster.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{Counter, header, not_replayable, post, rejection, send, service, tester_key};
use http::StatusCode;
use tower::ServiceExt;
use tower_vigil_core::Backend;
use tower_vigil_idempotency::__private::{self as store, Fingerprint};
use tower_vigil_idempotency::NotReplayableReason;
use tower_vigil_idempotency::{IdempotencyLayer, IdempotencyRejectionKind, ServerErrors};

async fn a_crashed_holder_blocks_only_until_its_lease_lapses<S: Backend>(s: S) {
    // Another process claimed the key, then died without releasing it.
    let fp = Fingerprint::of(&http::Method::POST, "/ok", None, b"x");
    let key = tester_key("k");
    store::claim(&s, &key, &fp, b"dead-process", Duration::from_millis(300))
        .await
        .unwrap();
    let runs = Counter::default();
    let svc = service(IdempotencyLayer::new(s), runs.clone());
    assert_eq!(
        send(&svc, post("/ok", "k", "x")).await.status(),
        StatusCode::CONFLICT
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        send(&svc, post("/ok", "k", "x")).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(runs.get(), 1);
}

async fn a_hung_handler_frees_the_key_after_its_maximum_hold<S: Backend>(s: S) {
    let runs = Counter::default();
    let layer = IdempotencyLayer::builder(s)
        .lease(Duration::from_millis(150))
        .max_hold(Duration::from_millis(400))
        .build()
        .unwrap();
    let svc = service(layer, runs.clone());
    let hung = tokio::spawn({
        let svc = svc.clone();
        async move { send(&svc, post("/hang", "k", "x")).await }
    });
    // Renewal keeps it held past several leases...
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        send(&svc, post("/hang", "k", "x")).await.status(),
        StatusCode::CONFLICT
    );
    // ...but not past the maximum hold.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let retry = tokio::spawn({
        let svc = svc.clone();
        async move { send(&svc, post("/hang", "k", "x")).await }
    });
    for _ in 0..200 {
        if runs.get() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(runs.get(), 2, "the retry ran once the hold ended");
    hung.abort();
    retry.abort();
}

async fn a_panicking_handler_releases_the_key<S: Backend>(s: S) {
    let runs = Counter::default();
    let svc = service(IdempotencyLayer::new(s), runs.clone());
    let crashed = tokio::spawn({
        let svc = svc.clone();
        async move { send(&svc, post("/panic", "k", "x")).await }
    });
    assert!(
        crashed.await.unwrap_err().is_panic(),
        "the panic reaches the caller"
    );
    // Released at once: the retry runs (and panics again) instead of getting 409.
    let again = tokio::spawn({
        let svc = svc.clone();
        async move { send(&svc, post("/panic", "k", "x")).await }
    });
    assert!(again.await.unwrap_err().is_panic());
    assert_eq!(runs.get(), 2);
}

async fn a_disconnected_client_still_gets_its_outcome_recorded<S: Backend>(s: S) {
    let runs = Counter::default();
    let svc = service(IdempotencyLayer::new(s), runs.clone());
    // The client gives up after 50 ms: the response future is dropped mid-handler.
    let gave_up = tokio::time::timeout(
        Duration::from_millis(50),
        svc.clone().oneshot(post("/slow", "k", "x")),
    )
    .await;
    assert!(gave_up.is_err());
    tokio::time::sleep(Duration::from_millis(600)).await;
    let retry = send(&svc, post("/slow", "k", "x")).await;
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(header(&retry, "idempotent-replayed"), Some("true"));
    assert_eq!(runs.get(), 1);
}

async fn server_errors_are_replayed_by_default<S: Backend>(s: S) {
    // The handler may have had side effects before it failed: a retry must not repeat them.
    let runs = Counter::default();
    let svc = service(IdempotencyLayer::new(s), runs.clone());
    let res = send(&svc, post("/fail", "k", "x")).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(header(&res, "idempotency-status"), None);
    let again = send(&svc, post("/fail", "k", "x")).await;
    assert_eq!(again.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(header(&again, "idempotent-replayed"), Some("true"));
    assert_eq!(header(&again, "x-run"), Some("1"));
    assert_eq!(runs.get(), 1);
}

async fn released_server_errors_free_the_key<S: Backend>(s: S) {
    let runs = Counter::default();
    let layer = IdempotencyLayer::builder(s)
        .server_errors(ServerErrors::Release)
        .build()
        .unwrap();
    let svc = service(layer, runs.clone());
    let res = send(&svc, post("/fail", "k", "x")).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(header(&res, "idempotency-status"), Some("not-stored"));
    let res = send(&svc, post("/fail", "k", "x")).await;
    assert_eq!(header(&res, "idempotent-replayed"), None);
    assert_eq!(runs.get(), 2);
}

async fn an_oversized_request_body_is_413<S: Backend>(s: S) {
    let runs = Counter::default();
    let layer = IdempotencyLayer::builder(s)
        .max_request_body(8)
        .build()
        .unwrap();
    let svc = service(layer, runs.clone());
    let res = send(&svc, post("/ok", "k", "123456789")).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        header(&res, "content-type"),
        Some("application/problem+json")
    );
    assert_eq!(send(&svc, post("/ok", "k", "12345678")).await.status(), 201);
    assert_eq!(runs.get(), 1);
}

async fn an_oversized_response_runs_once_and_its_retry_is_409<S: Backend>(s: S) {
    let runs = Counter::default();
    let layer = IdempotencyLayer::builder(s)
        .max_response_body(1024)
        .build()
        .unwrap();
    let svc = service(layer, runs.clone());
    let res = send(&svc, post("/big", "k", "x")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.body().len(), 4096);
    let again = send(&svc, post("/big", "k", "x")).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(
        not_replayable(&again),
        Some((StatusCode::CREATED, NotReplayableReason::TooLarge))
    );
    assert_eq!(
        header(&again, "content-type"),
        Some("application/problem+json")
    );
    assert_eq!(header(&again, "retry-after"), None, "retrying cannot help");
    let problem: serde_json::Value = serde_json::from_slice(again.body()).unwrap();
    assert_eq!(problem["originalStatus"], 201);
    assert_eq!(problem["reason"], "not_replayable");
    assert_eq!(problem["cause"], "too-large");
    assert_eq!(runs.get(), 1);
}

async fn a_storm_on_an_oversized_response_runs_the_handler_once<S: Backend>(s: S) {
    let runs = Counter::default();
    let layer = IdempotencyLayer::builder(s)
        .max_response_body(1024)
        .wait_for_in_flight(Duration::from_secs(20))
        .build()
        .unwrap();
    let svc = service(layer, runs.clone());
    let tasks: Vec<_> = (0..50)
        .map(|_| tokio::spawn(send(&svc, post("/big", "storm", "x"))))
        .collect();
    let (mut sent, mut refused) = (0, 0);
    for t in tasks {
        let res = t.await.unwrap();
        match res.status() {
            StatusCode::CREATED => {
                assert_eq!(res.body().len(), 4096);
                sent += 1;
            }
            StatusCode::CONFLICT => {
                assert!(rejection(&res) == Some(IdempotencyRejectionKind::NotReplayable));
                refused += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((sent, refused), (1, 49));
    assert_eq!(runs.get(), 1);
}

async fn a_storm_on_a_failing_handler_runs_it_once<S: Backend>(s: S) {
    let runs = Counter::default();
    let layer = IdempotencyLayer::builder(s)
        .wait_for_in_flight(Duration::from_secs(20))
        .build()
        .unwrap();
    let svc = service(layer, runs.clone());
    let tasks: Vec<_> = (0..50)
        .map(|_| tokio::spawn(send(&svc, post("/slowfail", "storm", "x"))))
        .collect();
    let mut replayed = 0;
    for t in tasks {
        let res = t.await.unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        replayed += usize::from(header(&res, "idempotent-replayed").is_some());
    }
    assert_eq!(replayed, 49);
    assert_eq!(runs.get(), 1);
}

async fn an_unreadable_record_is_500_and_never_runs_again<S: Backend>(s: S) {
    let fp = Fingerprint::of(&http::Method::POST, "/ok", None, b"x");
    let key = tester_key("k");
    store::claim(&s, &key, &fp, b"old", Duration::from_secs(60))
        .await
        .unwrap();
    let garbage = Bytes::from_static(b"VIR\x09not a record");
    assert!(
        store::complete(&s, &key, b"old", &garbage, Duration::from_secs(60))
            .await
            .unwrap()
    );
    let runs = Counter::default();
    let svc = service(IdempotencyLayer::new(s), runs.clone());
    let res = send(&svc, post("/ok", "k", "x")).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        rejection(&res),
        Some(IdempotencyRejectionKind::UnreadableRecord)
    );
    assert_eq!(runs.get(), 0);
}

async fn a_foreign_value_under_the_key_is_500_and_never_runs<S: Backend>(s: S) {
    // What the Node original left behind: a plain `SET NX` string.
    Backend::set(
        &s,
        &tester_key("k"),
        Bytes::from_static(b"1"),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    let runs = Counter::default();
    let svc = service(IdempotencyLayer::new(s), runs.clone());
    assert_eq!(send(&svc, post("/ok", "k", "x")).await.status(), 500);
    assert_eq!(runs.get(), 0);
}

async fn grpc_requests_get_grpc_statuses<S: Backend>(s: S) {
    let runs = Counter::default();
    let svc = service(IdempotencyLayer::new(s), runs.clone());
    let grpc = |body: &'static str| {
        let mut req = post("/ok", "k", body);
        req.headers_mut()
            .insert("content-type", "application/grpc".parse().unwrap());
        req
    };
    assert_eq!(send(&svc, grpc("a")).await.status(), 201);
    let replay = send(&svc, grpc("a")).await;
    assert_eq!(header(&replay, "idempotent-replayed"), Some("true"));
    let mismatch = send(&svc, grpc("b")).await;
    assert_eq!(mismatch.status(), StatusCode::OK);
    assert_eq!(header(&mismatch, "grpc-status"), Some("9"));
    assert_eq!(runs.get(), 1);
}

on_every_backend!(
    a_crashed_holder_blocks_only_until_its_lease_lapses,
    a_hung_handler_frees_the_key_after_its_maximum_hold,
    a_panicking_handler_releases_the_key,
    a_disconnected_client_still_gets_its_outcome_recorded,
    server_errors_are_replayed_by_default,
    released_server_errors_free_the_key,
    an_oversized_request_body_is_413,
    an_oversized_response_runs_once_and_its_retry_is_409,
    a_storm_on_an_oversized_response_runs_the_handler_once,
    a_storm_on_a_failing_handler_runs_it_once,
    an_unreadable_record_is_500_and_never_runs_again,
    a_foreign_value_under_the_key_is_500_and_never_runs,
    grpc_requests_get_grpc_statuses,
);
