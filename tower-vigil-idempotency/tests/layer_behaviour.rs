//! The layer's behaviour from issue 6, run on memory, Redis and the 3-master cluster.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{Counter, header, post, send, service};
use http::{Request, StatusCode};
use http_body_util::Full;
use tower::ServiceExt;
use tower_vigil_core::{Backend, Principal};
use tower_vigil_idempotency::fingerprint::{Fingerprint, store_key};
use tower_vigil_idempotency::{IdempotencyLayer, IdempotencyStore, Rejection};

async fn a_duplicate_is_replayed_without_running_again<S: IdempotencyStore>(s: S) {
    let runs = Counter::default();
    let svc = service(IdempotencyLayer::new(s), runs.clone());
    let first = send(&svc, post("/ok", "k1", "{\"amount\":5}")).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(header(&first, "idempotent-replayed"), None);
    let again = send(&svc, post("/ok", "k1", "{\"amount\":5}")).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.body(), "{\"amount\":5}");
    assert_eq!(header(&again, "idempotent-replayed"), Some("true"));
    assert_eq!(header(&again, "x-run"), Some("1"));
    assert_eq!(
        header(&again, "set-cookie"),
        None,
        "cookies are never replayed"
    );
    assert_eq!(runs.get(), 1);
}

async fn the_same_key_with_another_request_is_422<S: IdempotencyStore>(s: S) {
    let runs = Counter::default();
    let svc = service(IdempotencyLayer::new(s), runs.clone());
    assert_eq!(send(&svc, post("/ok", "k1", "a")).await.status(), 201);
    for other in [
        post("/ok", "k1", "b"),
        post("/ok?x=1", "k1", "a"),
        post("/slow", "k1", "a"),
    ] {
        let res = send(&svc, other).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            header(&res, "content-type"),
            Some("application/problem+json")
        );
    }
    assert_eq!(runs.get(), 1);
}

async fn bad_or_missing_keys_are_400<S: IdempotencyStore>(s: S) {
    let runs = Counter::default();
    let svc = service(IdempotencyLayer::new(s).required(), runs.clone());
    let raw = |value: &str| {
        Request::post("/ok")
            .header("idempotency-key", value)
            .body(Full::new(Bytes::new()))
            .unwrap()
    };
    let long = format!("\"{}\"", "k".repeat(256));
    for req in [
        raw("\"\""),
        raw(&long),
        raw("\"unterminated"),
        raw("two words"),
    ] {
        let res = send(&svc, req).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            header(&res, "content-type"),
            Some("application/problem+json")
        );
    }
    let twice = Request::post("/ok")
        .header("idempotency-key", "\"a\"")
        .header("idempotency-key", "\"a\"")
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(send(&svc, twice).await.status(), StatusCode::BAD_REQUEST);
    let missing = Request::post("/ok").body(Full::new(Bytes::new())).unwrap();
    let res = send(&svc, missing).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        res.extensions().get::<Rejection>(),
        Some(&Rejection::MissingKey)
    );
    assert_eq!(runs.get(), 0);
    // Methods outside the set pass through without a key; a bare token is accepted.
    let get = Request::get("/ok").body(Full::new(Bytes::new())).unwrap();
    assert_eq!(send(&svc, get).await.status(), 201);
    assert_eq!(send(&svc, raw("bare-token_1")).await.status(), 201);
    assert_eq!(runs.get(), 2);
}

async fn callers_with_the_same_key_never_see_each_others_responses<S: IdempotencyStore>(s: S) {
    let runs = Counter::default();
    let svc = service(IdempotencyLayer::new(s), runs.clone());
    let as_user = |user: &str, body: &'static str| {
        let mut req = post("/ok", "shared-key", body);
        req.extensions_mut().insert(Principal::user(user));
        req
    };
    let alice = send(&svc, as_user("alice", "alice's order")).await;
    let bob = send(&svc, as_user("bob", "bob's order")).await;
    let anon = send(&svc, post("/ok", "shared-key", "anonymous order")).await;
    assert_eq!(bob.body(), "bob's order");
    assert_eq!(anon.body(), "anonymous order");
    for res in [&alice, &bob, &anon] {
        assert_eq!(header(res, "idempotent-replayed"), None);
    }
    // A principal whose id contains a `:` cannot reach another scope.
    let tricky = send(&svc, as_user("alice:x", "tricky")).await;
    assert_eq!(header(&tricky, "idempotent-replayed"), None);
    assert_eq!(runs.get(), 4);
    let alice_again = send(&svc, as_user("alice", "alice's order")).await;
    assert_eq!(header(&alice_again, "idempotent-replayed"), Some("true"));
    assert_eq!(alice_again.body(), "alice's order");
    assert_eq!(runs.get(), 4);
}

async fn a_storm_of_200_duplicates_runs_the_handler_once<S: IdempotencyStore>(s: S) {
    let runs = Counter::default();
    let layer = IdempotencyLayer::new(s).wait_for_in_flight(Duration::from_secs(20));
    let svc = service(layer, runs.clone());
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let svc = svc.clone();
            tokio::spawn(async move { send(&svc, post("/slow", "storm", "pay 10")).await })
        })
        .collect();
    let mut replayed = 0;
    for t in tasks {
        let res = t.await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(res.body(), "pay 10");
        assert_eq!(header(&res, "x-run"), Some("1"));
        replayed += usize::from(header(&res, "idempotent-replayed").is_some());
    }
    assert_eq!(runs.get(), 1);
    assert_eq!(replayed, 199);
}

async fn a_request_in_flight_answers_409_with_retry_after<S: IdempotencyStore>(s: S) {
    let runs = Counter::default();
    let svc = service(IdempotencyLayer::new(s), runs.clone());
    let first = tokio::spawn({
        let svc = svc.clone();
        async move { send(&svc, post("/slow", "k", "x")).await }
    });
    // Once the handler runs, the first request holds the key.
    while runs.get() == 0 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let conflict = send(&svc, post("/slow", "k", "x")).await;
    assert_eq!(conflict.status(), StatusCode::CONFLICT);
    assert_eq!(
        header(&conflict, "content-type"),
        Some("application/problem+json")
    );
    assert_eq!(header(&conflict, "retry-after"), Some("1"));
    assert_eq!(first.await.unwrap().status(), StatusCode::CREATED);
    assert_eq!(runs.get(), 1);
}

async fn a_crashed_holder_blocks_only_until_its_lease_lapses<S: IdempotencyStore>(s: S) {
    // Another process claimed the key, then died without releasing it.
    let fp = Fingerprint::of(&http::Method::POST, "/ok", None, b"x");
    let key = store_key("anonymous", "k");
    s.claim(&key, &fp, b"dead-process", Duration::from_millis(300))
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

async fn a_hung_handler_frees_the_key_after_its_maximum_hold<S: IdempotencyStore>(s: S) {
    let runs = Counter::default();
    let layer = IdempotencyLayer::new(s)
        .lease(Duration::from_millis(150))
        .unwrap()
        .max_hold(Duration::from_millis(400))
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

async fn a_panicking_handler_releases_the_key<S: IdempotencyStore>(s: S) {
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

async fn a_disconnected_client_still_gets_its_outcome_recorded<S: IdempotencyStore>(s: S) {
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

async fn server_errors_are_not_stored<S: IdempotencyStore>(s: S) {
    let runs = Counter::default();
    let svc = service(IdempotencyLayer::new(s), runs.clone());
    let res = send(&svc, post("/fail", "k", "x")).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(header(&res, "idempotency-status"), Some("not-stored"));
    let res = send(&svc, post("/fail", "k", "x")).await;
    assert_eq!(header(&res, "idempotent-replayed"), None);
    assert_eq!(runs.get(), 2);
}

async fn an_oversized_request_body_is_413<S: IdempotencyStore>(s: S) {
    let runs = Counter::default();
    let layer = IdempotencyLayer::new(s).max_request_body(8).unwrap();
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

async fn an_oversized_response_passes_through_unstored<S: IdempotencyStore>(s: S) {
    let runs = Counter::default();
    let layer = IdempotencyLayer::new(s).max_response_body(1024).unwrap();
    let svc = service(layer, runs.clone());
    let res = send(&svc, post("/big", "k", "x")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.body().len(), 4096);
    assert_eq!(header(&res, "idempotency-status"), Some("not-stored"));
    let again = send(&svc, post("/big", "k", "x")).await;
    assert_eq!(again.body().len(), 4096);
    assert_eq!(header(&again, "idempotent-replayed"), None);
    assert_eq!(runs.get(), 2);
}

async fn an_unreadable_record_is_500_and_never_runs_again<S: IdempotencyStore>(s: S) {
    let fp = Fingerprint::of(&http::Method::POST, "/ok", None, b"x");
    let key = store_key("anonymous", "k");
    s.claim(&key, &fp, b"old", Duration::from_secs(60))
        .await
        .unwrap();
    let garbage = Bytes::from_static(b"VIR\x09not a record");
    assert!(
        s.complete(&key, b"old", garbage, Duration::from_secs(60))
            .await
            .unwrap()
    );
    let runs = Counter::default();
    let svc = service(IdempotencyLayer::new(s), runs.clone());
    let res = send(&svc, post("/ok", "k", "x")).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        res.extensions().get::<Rejection>(),
        Some(&Rejection::UnreadableRecord)
    );
    assert_eq!(runs.get(), 0);
}

async fn a_foreign_value_under_the_key_is_500_and_never_runs<S: IdempotencyStore + Backend>(s: S) {
    // What the Node original left behind: a plain `SET NX` string.
    Backend::set(
        &s,
        &store_key("anonymous", "k"),
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

async fn grpc_requests_get_grpc_statuses<S: IdempotencyStore>(s: S) {
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
    a_duplicate_is_replayed_without_running_again,
    the_same_key_with_another_request_is_422,
    bad_or_missing_keys_are_400,
    callers_with_the_same_key_never_see_each_others_responses,
    a_storm_of_200_duplicates_runs_the_handler_once,
    a_request_in_flight_answers_409_with_retry_after,
    a_crashed_holder_blocks_only_until_its_lease_lapses,
    a_hung_handler_frees_the_key_after_its_maximum_hold,
    a_panicking_handler_releases_the_key,
    a_disconnected_client_still_gets_its_outcome_recorded,
    server_errors_are_not_stored,
    an_oversized_request_body_is_413,
    an_oversized_response_passes_through_unstored,
    an_unreadable_record_is_500_and_never_runs_again,
    a_foreign_value_under_the_key_is_500_and_never_runs,
    grpc_requests_get_grpc_statuses,
);
