//! Replay, 422, the 400s, scope isolation, 409 and the 200-duplicate storm, on memory, Redis
//! and the 3-master cluster.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{Counter, anonymous_post, header, post, rejection, send, service};
use http::{Request, StatusCode};
use http_body_util::Full;
use tower_vigil_core::Backend;
use tower_vigil_core::Principal;
use tower_vigil_idempotency::{IdempotencyLayer, IdempotencyRejectionKind};

async fn a_duplicate_is_replayed_without_running_again<S: Backend>(s: S) {
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

async fn the_same_key_with_another_request_is_422<S: Backend>(s: S) {
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

async fn bad_or_missing_keys_are_400<S: Backend>(s: S) {
    let runs = Counter::default();
    let svc = service(
        IdempotencyLayer::builder(s).required(true).build().unwrap(),
        runs.clone(),
    );
    let raw = |value: &str| {
        Request::post("/ok")
            .header("idempotency-key", value)
            .extension(Principal::user(common::TESTER))
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
    assert_eq!(rejection(&res), Some(IdempotencyRejectionKind::MissingKey));
    assert_eq!(runs.get(), 0);
    // Methods outside the set pass through without a key; a bare token is accepted.
    let get = Request::get("/ok").body(Full::new(Bytes::new())).unwrap();
    assert_eq!(send(&svc, get).await.status(), 201);
    assert_eq!(send(&svc, raw("bare-token_1")).await.status(), 201);
    assert_eq!(runs.get(), 2);
}

async fn callers_with_the_same_key_never_see_each_others_responses<S: Backend>(s: S) {
    let runs = Counter::default();
    let svc = service(IdempotencyLayer::new(s), runs.clone());
    let as_user = |user: &str, body: &'static str| {
        let mut req = post("/ok", "shared-key", body);
        req.extensions_mut().insert(Principal::user(user));
        req
    };
    let alice = send(&svc, as_user("alice", "alice's order")).await;
    let bob = send(&svc, as_user("bob", "bob's order")).await;
    let anon = send(&svc, anonymous_post("/ok", "shared-key", "alice's order")).await;
    assert_eq!(bob.body(), "bob's order");
    assert_eq!(
        anon.status(),
        StatusCode::UNAUTHORIZED,
        "no scope, no replay"
    );
    for res in [&alice, &bob] {
        assert_eq!(header(res, "idempotent-replayed"), None);
    }
    // A principal whose id contains a `:` cannot reach another scope.
    let tricky = send(&svc, as_user("alice:x", "tricky")).await;
    assert_eq!(header(&tricky, "idempotent-replayed"), None);
    assert_eq!(runs.get(), 3);
    let alice_again = send(&svc, as_user("alice", "alice's order")).await;
    assert_eq!(header(&alice_again, "idempotent-replayed"), Some("true"));
    assert_eq!(alice_again.body(), "alice's order");
    assert_eq!(runs.get(), 3);
}

async fn a_storm_of_200_duplicates_runs_the_handler_once<S: Backend>(s: S) {
    let runs = Counter::default();
    let layer = IdempotencyLayer::builder(s)
        .wait_for_in_flight(Duration::from_secs(20))
        .build()
        .unwrap();
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

async fn a_request_in_flight_answers_409_with_retry_after<S: Backend>(s: S) {
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

on_every_backend!(
    a_duplicate_is_replayed_without_running_again,
    the_same_key_with_another_request_is_422,
    bad_or_missing_keys_are_400,
    callers_with_the_same_key_never_see_each_others_responses,
    a_storm_of_200_duplicates_runs_the_handler_once,
    a_request_in_flight_answers_409_with_retry_after,
);

mod options {
    //! Scope and waiting options, on memory.

    use super::*;
    use tower_vigil_core::MemoryBackend;
    use tower_vigil_idempotency::{ServerErrors, Unscoped};

    #[tokio::test]
    async fn unscoped_requests_are_refused_by_default() {
        let runs = Counter::default();
        let svc = service(IdempotencyLayer::new(MemoryBackend::new()), runs.clone());
        let res = send(&svc, anonymous_post("/ok", "k", "x")).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(rejection(&res), Some(IdempotencyRejectionKind::Unscoped));
        let problem: serde_json::Value = serde_json::from_slice(res.body()).unwrap();
        assert!(
            problem["type"]
                .as_str()
                .unwrap()
                .ends_with("#variant.Unscoped")
        );
        let mut req = anonymous_post("/ok", "k", "x");
        req.extensions_mut().insert(Principal::api_key("key-1"));
        assert_eq!(send(&svc, req).await.status(), StatusCode::CREATED);
        // Requests without a key are not the layer's business: they pass, scoped or not.
        let plain = Request::post("/ok").body(Full::new(Bytes::new())).unwrap();
        assert_eq!(send(&svc, plain).await.status(), StatusCode::CREATED);
        assert_eq!(runs.get(), 2);
    }

    #[tokio::test]
    async fn one_shared_unscoped_namespace_is_an_explicit_opt_in() {
        let runs = Counter::default();
        let layer = IdempotencyLayer::builder(MemoryBackend::new())
            .unscoped(Unscoped::SharedUnsafe)
            .build()
            .unwrap();
        let svc = service(layer, runs.clone());
        send(&svc, anonymous_post("/ok", "k", "x")).await;
        let other_client = send(&svc, anonymous_post("/ok", "k", "x")).await;
        assert_eq!(header(&other_client, "idempotent-replayed"), Some("true"));
        assert_eq!(runs.get(), 1);
    }

    #[tokio::test]
    async fn a_scope_closure_chooses_the_scope() {
        let runs = Counter::default();
        // The closure's answer wins over the principal every `post` carries.
        let layer = IdempotencyLayer::builder(MemoryBackend::new())
            .scope(|parts| {
                parts
                    .headers
                    .get("x-tenant")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            })
            .build()
            .unwrap();
        let svc = service(layer, runs.clone());
        let for_tenant = |t: &'static str| {
            let mut req = post("/ok", "k", "x");
            req.headers_mut().insert("x-tenant", t.parse().unwrap());
            req
        };
        send(&svc, for_tenant("a")).await;
        send(&svc, for_tenant("b")).await;
        let again = send(&svc, for_tenant("a")).await;
        assert_eq!(header(&again, "idempotent-replayed"), Some("true"));
        assert_eq!(runs.get(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_runs_the_request_when_the_first_fails() {
        let runs = Counter::default();
        let layer = IdempotencyLayer::builder(MemoryBackend::new())
            .wait_for_in_flight(Duration::from_secs(5))
            .server_errors(ServerErrors::Release)
            .build()
            .unwrap();
        let svc = service(layer, runs.clone());
        // `/slowfail` answers 500 after 200 ms, which (released on request) frees the key; the duplicates that were
        // waiting claim it in turn and run: none of them gets a 409.
        let tasks: Vec<_> = (0..3)
            .map(|_| tokio::spawn(send(&svc, post("/slowfail", "k", "x"))))
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().status(), StatusCode::INTERNAL_SERVER_ERROR);
        }
        assert_eq!(runs.get(), 3);
    }
}
