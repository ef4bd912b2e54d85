//! Charge by outcome: count only failed logins, or refund what the server's own failures cost.

mod common;

use common::{from_ip, status_service};
use http::{Request, StatusCode};
use tower::{Layer, ServiceExt};
use tower_vigil_core::Backend;
use tower_vigil_ratelimit::{Algorithm, Quota, RateLimitLayer};

fn with_status(status: u16) -> Request<String> {
    from(20, status)
}

fn from(host: u8, status: u16) -> Request<String> {
    let mut req = from_ip(&format!("192.0.2.{host}"));
    req.headers_mut().insert("x-status", status.into());
    req
}

async fn only_failed_logins_count<B: Backend>(store: B) {
    for (host, algorithm) in (1u8..).zip(Algorithm::ALL) {
        let svc = RateLimitLayer::builder(store.clone(), Quota::per_minute(3))
            .algorithm(algorithm)
            .charge_when(|s| s == StatusCode::UNAUTHORIZED)
            .deny_cache(None)
            .build()
            .unwrap()
            .layer(status_service());
        let call = |status| svc.clone().oneshot(from(host, status));
        // Real users logging in successfully are never locked out by it.
        for _ in 0..10 {
            assert_eq!(call(200).await.unwrap().status(), 200, "{algorithm}");
        }
        for _ in 0..3 {
            assert_eq!(call(401).await.unwrap().status(), 401, "{algorithm}");
        }
        // Three failures spent the quota: the next attempt is refused before it is tried.
        assert_eq!(call(200).await.unwrap().status(), 429, "{algorithm}");
    }
}

async fn server_errors_are_refunded<B: Backend>(store: B) {
    let svc = RateLimitLayer::builder(store, Quota::per_minute(2))
        .refund_when(|s| s.is_server_error())
        .deny_cache(None)
        .build()
        .unwrap()
        .layer(status_service());
    let svc = |req| svc.clone().oneshot(req);
    for _ in 0..5 {
        assert_eq!(svc(with_status(503)).await.unwrap().status(), 503);
    }
    assert_eq!(svc(with_status(200)).await.unwrap().status(), 200);
    assert_eq!(svc(with_status(200)).await.unwrap().status(), 200);
    assert_eq!(svc(with_status(200)).await.unwrap().status(), 429);
}

on_every_backend!(only_failed_logins_count, server_errors_are_refunded);
