//! What a limited or admitted request is answered: header values and their rounding, the 429
//! problem, gRPC, every rejection the layer makes (over a limit, no key, backend unavailable)
//! with its kind in the extensions, and one `.response(..)` replacing them all.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{Probe, T0, from_ip, header, json, ok_service, text};
use http::StatusCode;
use tower::{Layer, ServiceExt};
use tower_vigil_core::Rejection;
use tower_vigil_ratelimit::{
    Algorithm, Clock, Decision, FailurePolicy, Policy, Quota, RateLimitLayer, RateLimitRejection,
    RateLimitRejectionKind,
};
use tower_vigil_tests::fixtures;

fn frozen(at: u64) -> Clock {
    Clock::custom(move || at)
}

#[tokio::test]
async fn headers_describe_every_policy() {
    let layer = RateLimitLayer::builder(fixtures::memory(), Quota::per_minute(100))
        .policy(
            Policy::with_algorithm("hour", Quota::per_hour(1000), Algorithm::FixedWindow).unwrap(),
        )
        .clock(frozen(T0))
        .build()
        .unwrap();
    let svc = layer.layer(ok_service());
    let res = svc.clone().oneshot(from_ip("192.0.2.1")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        header(&res, "ratelimit-policy"),
        r#""default";q=100;w=60, "hour";q=1000;w=3600"#
    );
    // GCRA: 99 left, full again in 0.6 s → 1; the fixed window ends at the next whole hour.
    let hour_left = 3600 - (T0 / 1_000_000) % 3600;
    assert_eq!(
        header(&res, "ratelimit"),
        format!(r#""default";r=99;t=1, "hour";r=999;t={hour_left}"#)
    );
    // Legacy headers describe the policy with the fewest units left.
    assert_eq!(header(&res, "x-ratelimit-limit"), "100");
    assert_eq!(header(&res, "x-ratelimit-remaining"), "99");
    let reset: u64 = header(&res, "x-ratelimit-reset").parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!((now..=now + 3).contains(&reset), "{reset} vs {now}");
    assert!(res.extensions().get::<Decision>().unwrap().allowed());
}

#[tokio::test]
async fn header_families_can_be_switched_off() {
    let layer = RateLimitLayer::builder(fixtures::memory(), Quota::per_minute(1))
        .ietf_headers(false)
        .legacy_headers(false)
        .build()
        .unwrap();
    let svc = layer.layer(ok_service());
    let res = svc.clone().oneshot(from_ip("192.0.2.1")).await.unwrap();
    assert!(res.headers().get("ratelimit").is_none());
    assert!(res.headers().get("x-ratelimit-limit").is_none());
    let res = svc.oneshot(from_ip("192.0.2.1")).await.unwrap();
    assert_eq!(res.status(), 429);
    assert!(
        res.headers().get("retry-after").is_some(),
        "Retry-After always goes with a 429"
    );
}

#[tokio::test]
async fn a_wait_of_0_3_seconds_is_retry_after_1() {
    // One per second: the second request, 700 ms after the first, must wait 0.3 s.
    let layer = RateLimitLayer::builder(fixtures::memory(), Quota::per_second(1))
        .clock(Clock::custom({
            let calls = std::sync::atomic::AtomicU64::new(0);
            move || {
                let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if n == 0 { T0 } else { T0 + 700_000 }
            }
        }))
        .deny_cache(None)
        .build()
        .unwrap();
    let svc = layer.layer(ok_service());
    assert_eq!(
        svc.clone()
            .oneshot(from_ip("192.0.2.2"))
            .await
            .unwrap()
            .status(),
        200
    );
    let res = svc.oneshot(from_ip("192.0.2.2")).await.unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(
        res.extensions().get::<Decision>().unwrap().retry_after(),
        Some(Duration::from_millis(300))
    );
    assert_eq!(header(&res, "retry-after"), "1");
    assert_eq!(header(&res, "ratelimit"), r#""default";r=0;t=1"#);
}

#[tokio::test]
async fn retry_after_rounds_up_and_is_never_earlier_than_t() {
    // 3 per 10 s: a denied request waits 3.333… s → 4.
    let layer = RateLimitLayer::builder(fixtures::memory(), Quota::new(3, Duration::from_secs(10)))
        .clock(frozen(T0))
        .build()
        .unwrap();
    let svc = layer.layer(ok_service());
    for _ in 0..3 {
        svc.clone().oneshot(from_ip("192.0.2.3")).await.unwrap();
    }
    let res = svc.oneshot(from_ip("192.0.2.3")).await.unwrap();
    assert_eq!(header(&res, "retry-after"), "4");
    assert_eq!(header(&res, "ratelimit"), r#""default";r=0;t=4"#);
    let body = json(res).await;
    assert_eq!(body["status"], 429);
    assert_eq!(body["type"], "about:blank");
    assert_eq!(body["title"], "Too Many Requests");
    assert_eq!(body["retryAfter"], 4);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("retry in 4 seconds"),
        "{body}"
    );
}

#[tokio::test]
async fn the_429_is_problem_json() {
    let layer = RateLimitLayer::builder(fixtures::memory(), Quota::per_hour(1))
        .build()
        .unwrap();
    let svc = layer.layer(ok_service());
    svc.clone().oneshot(from_ip("192.0.2.4")).await.unwrap();
    let res = svc.oneshot(from_ip("192.0.2.4")).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&res, "content-type"), "application/problem+json");
    assert_eq!(header(&res, "retry-after"), "3600");
}

#[tokio::test]
async fn grpc_requests_get_resource_exhausted_with_the_delay() {
    let layer = RateLimitLayer::builder(fixtures::memory(), Quota::per_minute(1))
        .build()
        .unwrap();
    let svc = layer.layer(ok_service());
    let grpc = || {
        let mut req = from_ip("192.0.2.5");
        req.headers_mut()
            .insert("content-type", "application/grpc".parse().unwrap());
        req
    };
    svc.clone().oneshot(grpc()).await.unwrap();
    let res = svc.oneshot(grpc()).await.unwrap();
    assert_eq!(res.status(), 200, "gRPC errors travel in grpc-status");
    assert_eq!(header(&res, "grpc-status"), "8");
    assert!(header(&res, "grpc-message").contains("retry in 60 seconds"));
    // The decision's retry-after in ms (the memory backend's clock moved a little since the
    // first request), never more than `retry-after`.
    let pushback: u64 = header(&res, "grpc-retry-pushback-ms").parse().unwrap();
    assert!((59_000..=60_000).contains(&pushback), "{pushback}");
    assert_eq!(header(&res, "retry-after"), "60");
    let rejection = res.extensions().get::<RateLimitRejection>().unwrap();
    assert_eq!(rejection.kind(), RateLimitRejectionKind::Limited);
    assert!(rejection.is_grpc());
}

#[tokio::test]
async fn the_rejection_can_be_replaced_by_a_closure() {
    let layer = RateLimitLayer::builder(fixtures::memory(), Quota::per_minute(1))
        .response(|r: &RateLimitRejection| {
            http::Response::builder()
                .status(StatusCode::SERVICE_UNAVAILABLE)
                .header("retry-after", "999")
                .body(Bytes::from(format!(
                    "busy, policy {}",
                    r.policy_name().unwrap_or_default()
                )))
                .unwrap()
        })
        .build()
        .unwrap();
    let svc = layer.layer(ok_service());
    svc.clone().oneshot(from_ip("192.0.2.6")).await.unwrap();
    let res = svc.oneshot(from_ip("192.0.2.6")).await.unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(
        header(&res, "retry-after"),
        "999",
        "the closure's own header is kept"
    );
    assert!(header(&res, "ratelimit").contains("r=0"));
    assert!(res.extensions().get::<Decision>().is_some());
    assert_eq!(
        res.extensions()
            .get::<RateLimitRejection>()
            .unwrap()
            .policy_name(),
        Some("default")
    );
}

#[tokio::test]
async fn the_rejection_carries_the_decisions_retry_after() {
    let layer = RateLimitLayer::builder(fixtures::memory(), Quota::per_minute(2))
        .clock(frozen(T0))
        .build()
        .unwrap();
    let svc = layer.layer(ok_service());
    for _ in 0..2 {
        svc.clone().oneshot(from_ip("192.0.2.9")).await.unwrap();
    }
    let res = svc.oneshot(from_ip("192.0.2.9")).await.unwrap();
    let rejection = res.extensions().get::<RateLimitRejection>().unwrap();
    let decision = res.extensions().get::<Decision>().unwrap();
    assert_eq!(rejection.kind(), RateLimitRejectionKind::Limited);
    assert_eq!(rejection.retry_after(), decision.retry_after());
    assert_eq!(rejection.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(rejection.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(rejection.decision(), Some(decision));
    let body = json(res).await;
    assert_eq!(body["reason"], "rate_limited");
    assert_eq!(body["retryAfter"], 30);
}

#[tokio::test]
async fn a_request_without_a_key_gets_a_missing_key_rejection() {
    let layer = RateLimitLayer::new(fixtures::memory(), Quota::per_minute(1));
    let svc = layer.layer(ok_service());
    let res = svc
        .clone()
        .oneshot(http::Request::new(String::new()))
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("retry-after").is_none());
    let rejection = res
        .extensions()
        .get::<RateLimitRejection>()
        .unwrap()
        .clone();
    assert_eq!(rejection.kind(), RateLimitRejectionKind::MissingKey);
    assert_eq!(rejection.decision(), None);
    let body = json(res).await;
    assert_eq!(body["title"], "Missing Rate-Limit Key");
    assert_eq!(body["reason"], "missing_key");
    let mut grpc = http::Request::new(String::new());
    grpc.headers_mut()
        .insert("content-type", "application/grpc+proto".parse().unwrap());
    let res = svc.oneshot(grpc).await.unwrap();
    assert_eq!(header(&res, "grpc-status"), "3", "INVALID_ARGUMENT");
}

#[tokio::test]
async fn a_failed_backend_under_fail_closed_gets_an_unavailable_rejection() {
    let backend = Probe::new(fixtures::memory());
    backend.fail_with(Some(|| {
        tower_vigil_core::BackendError::timeout(Duration::from_millis(250))
    }));
    let svc = RateLimitLayer::builder(backend, Quota::per_minute(1))
        .failure_policy(FailurePolicy::Closed)
        .build()
        .unwrap()
        .layer(ok_service());
    let res = svc.clone().oneshot(from_ip("192.0.2.10")).await.unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(
        header(&res, "retry-after"),
        "1",
        "the rejection's retry_after"
    );
    let rejection = res.extensions().get::<RateLimitRejection>().unwrap();
    assert_eq!(rejection.kind(), RateLimitRejectionKind::Unavailable);
    assert_eq!(rejection.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(json(res).await["reason"], "unavailable");
    let mut grpc = from_ip("192.0.2.10");
    grpc.headers_mut()
        .insert("content-type", "application/grpc".parse().unwrap());
    let res = svc.oneshot(grpc).await.unwrap();
    assert_eq!(header(&res, "grpc-status"), "14", "UNAVAILABLE");
    assert_eq!(header(&res, "grpc-retry-pushback-ms"), "1000");
}

#[tokio::test]
async fn one_response_setting_answers_every_rejection() {
    let backend = Probe::new(fixtures::memory());
    let svc = RateLimitLayer::builder(backend.clone(), Quota::per_minute(1))
        .failure_policy(FailurePolicy::Closed)
        .response(|r: &RateLimitRejection| {
            http::Response::builder()
                .status(418)
                .body(Bytes::from(r.kind().as_str()))
                .unwrap()
        })
        .build()
        .unwrap()
        .layer(ok_service());
    let body = |res: http::Response<_>| async move {
        assert_eq!(res.status(), 418);
        let kind = res.extensions().get::<RateLimitRejection>().unwrap().kind();
        (kind, text(res).await)
    };
    svc.clone().oneshot(from_ip("192.0.2.11")).await.unwrap();
    let limited = svc.clone().oneshot(from_ip("192.0.2.11")).await.unwrap();
    assert_eq!(
        body(limited).await,
        (RateLimitRejectionKind::Limited, "rate_limited".to_owned())
    );
    let keyless = svc
        .clone()
        .oneshot(http::Request::new(String::new()))
        .await
        .unwrap();
    assert_eq!(
        body(keyless).await,
        (RateLimitRejectionKind::MissingKey, "missing_key".to_owned())
    );
    backend.fail_with(Some(|| {
        tower_vigil_core::BackendError::timeout(Duration::from_millis(250))
    }));
    let down = svc.oneshot(from_ip("192.0.2.12")).await.unwrap();
    assert_eq!(
        body(down).await,
        (
            RateLimitRejectionKind::Unavailable,
            "unavailable".to_owned()
        )
    );
}
