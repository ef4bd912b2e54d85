//! `inspect`: what a key holds — free, in flight (lease and owner), completed (status, body,
//! retention), not replayable — for keys made through the layer, on memory, Redis, Redis
//! Cluster and Sentinel.

mod common;

use std::time::Duration;

use common::{Counter, TESTER, post, send, service};
use http::StatusCode;
use tower_vigil_core::{Backend, Principal};
use tower_vigil_idempotency::{
    DEFAULT_LEASE, DEFAULT_TTL, IdempotencyLayer, Inspection, NotReplayableReason, inspect,
};

fn scope() -> String {
    Principal::user(TESTER).scope()
}

async fn a_key_is_free_then_in_flight_then_completed<B: Backend + Clone>(s: B) {
    assert_eq!(inspect(&s, &scope(), "k1").await.unwrap(), Inspection::Free);
    let svc = service(IdempotencyLayer::new(s.clone()), Counter::default());
    // In flight: a handler that never answers holds the key.
    let hang = tokio::spawn(send(&svc, post("/hang", "k1", "body")));
    let mut found = Inspection::Free;
    for _ in 0..400 {
        found = inspect(&s, &scope(), "k1").await.unwrap();
        if found != Inspection::Free {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    match found {
        Inspection::InFlight {
            lease_remaining,
            owner_present,
        } => {
            assert!(owner_present);
            assert!(lease_remaining > Duration::ZERO && lease_remaining <= DEFAULT_LEASE);
        }
        other => panic!("expected in flight, got {other:?}"),
    }
    hang.abort();
    // Completed: the stored status and body.
    let res = send(&svc, post("/ok", "k2", "hello")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    match inspect(&s, &scope(), "k2").await.unwrap() {
        Inspection::Completed(r) => {
            assert_eq!(r.status, StatusCode::CREATED);
            assert_eq!(r.not_replayable, None);
            assert_eq!(r.body_len, 5);
            assert!(r.header_count >= 1);
            let left = r.retention_remaining.unwrap();
            assert!(left > Duration::ZERO && left <= DEFAULT_TTL, "{left:?}");
        }
        other => panic!("expected completed, got {other:?}"),
    }
    // Another scope's key of the same name is free.
    assert_eq!(
        inspect(&s, "apikey:someone-else", "k2").await.unwrap(),
        Inspection::Free
    );
}

async fn a_response_too_large_is_completed_but_not_replayable<B: Backend + Clone>(s: B) {
    let layer = IdempotencyLayer::builder(s.clone())
        .max_response_body(1024)
        .build()
        .unwrap();
    let svc = service(layer, Counter::default());
    assert_eq!(
        send(&svc, post("/big", "big", "")).await.status(),
        StatusCode::CREATED
    );
    match inspect(&s, &scope(), "big").await.unwrap() {
        Inspection::Completed(r) => {
            assert_eq!(r.status, StatusCode::CREATED);
            assert_eq!(r.not_replayable, Some(NotReplayableReason::TooLarge));
        }
        other => panic!("expected completed, got {other:?}"),
    }
}

on_every_backend!(
    a_key_is_free_then_in_flight_then_completed,
    a_response_too_large_is_completed_but_not_replayable,
);
