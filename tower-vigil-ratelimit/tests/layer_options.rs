//! Layer options: shadow mode, several policies, per-request quotas and costs, missing keys.
//! Configuration errors caught at build are in `builder.rs`.

mod common;

use common::{T0, from_ip, header, ok_service};
use http::Request;
use tower::{Layer, ServiceExt};
use tower_vigil_core::Principal;
use tower_vigil_ratelimit::key::{GlobalKey, HeaderKey, PrincipalKey};
use tower_vigil_ratelimit::{
    Clock, Decision, MemoryBackend, MissingKey, Policy, Quota, RateLimitLayer,
};
use tower_vigil_tests::fixtures;

fn frozen(at: u64) -> Clock {
    Clock::custom(move || at)
}

#[tokio::test]
async fn shadow_mode_decides_but_never_rejects() {
    let layer = RateLimitLayer::builder(fixtures::memory(), Quota::per_minute(2))
        .shadow(true)
        .build()
        .unwrap();
    let svc = layer.layer(ok_service());
    for i in 0..5 {
        let res = svc.clone().oneshot(from_ip("192.0.2.7")).await.unwrap();
        assert_eq!(res.status(), 200);
        let d = res.extensions().get::<Decision>().unwrap();
        assert_eq!(d.allowed(), i < 2, "request {i}");
        if i >= 2 {
            assert_eq!(header(&res, "retry-after"), "30");
        }
    }
}

#[tokio::test]
async fn the_quota_can_be_chosen_per_request() {
    #[derive(Clone)]
    struct KeyLimit(u32);
    let layer = RateLimitLayer::builder(fixtures::memory(), Quota::per_minute(1))
        .key(PrincipalKey::new())
        .quota_for(|head| {
            head.extensions()
                .get::<KeyLimit>()
                .map(|l| Quota::per_minute(l.0))
        })
        .build()
        .unwrap();
    let svc = layer.layer(ok_service());
    let req = |id: &str, limit: Option<u32>| {
        let mut req = Request::new(String::new());
        req.extensions_mut().insert(Principal::api_key(id));
        if let Some(l) = limit {
            req.extensions_mut().insert(KeyLimit(l));
        }
        req
    };
    let mut ok = 0;
    for _ in 0..5 {
        ok += usize::from(
            svc.clone()
                .oneshot(req("gold", Some(3)))
                .await
                .unwrap()
                .status()
                == 200,
        );
    }
    assert_eq!(ok, 3);
    // The headers describe the chosen quota, not the configured one (which the layer keeps
    // ready-made), on an admitted response and on a 429 alike.
    let admitted = svc.clone().oneshot(req("silver", Some(4))).await.unwrap();
    assert_eq!(
        header(&admitted, "ratelimit-policy"),
        r#""default";q=4;w=60"#
    );
    assert_eq!(header(&admitted, "x-ratelimit-limit"), "4");
    let limited = svc.clone().oneshot(req("gold", Some(3))).await.unwrap();
    assert_eq!(limited.status(), 429);
    assert_eq!(
        header(&limited, "ratelimit-policy"),
        r#""default";q=3;w=60"#
    );
    assert_eq!(header(&limited, "x-ratelimit-limit"), "3");
    // A zero limit from the chooser is invalid: the configured quota applies, no 500.
    let res = svc.clone().oneshot(req("broken", Some(0))).await.unwrap();
    assert_eq!(header(&res, "ratelimit-policy"), r#""default";q=1;w=60"#);
    assert_eq!(
        svc.clone()
            .oneshot(req("plain", None))
            .await
            .unwrap()
            .status(),
        200
    );
    let limited = svc.oneshot(req("plain", None)).await.unwrap();
    assert_eq!(limited.status(), 429);
    assert_eq!(
        header(&limited, "ratelimit-policy"),
        r#""default";q=1;w=60"#
    );
    assert_eq!(header(&limited, "x-ratelimit-limit"), "1");
}

#[tokio::test]
async fn cost_weighs_requests() {
    let layer = RateLimitLayer::builder(fixtures::memory(), Quota::per_minute(10))
        .key(GlobalKey)
        .cost(|head| {
            if head.method() == http::Method::POST {
                4
            } else {
                1
            }
        })
        .build()
        .unwrap();
    let svc = layer.layer(ok_service());
    let post = || {
        let mut r = Request::new(String::new());
        *r.method_mut() = http::Method::POST;
        r
    };
    assert_eq!(svc.clone().oneshot(post()).await.unwrap().status(), 200);
    assert_eq!(svc.clone().oneshot(post()).await.unwrap().status(), 200);
    assert_eq!(svc.clone().oneshot(post()).await.unwrap().status(), 429);
    let res = svc.oneshot(Request::new(String::new())).await.unwrap();
    assert_eq!(header(&res, "ratelimit"), r#""default";r=1;t=54"#);
}

#[tokio::test]
async fn several_policies_are_all_or_nothing() {
    let layer = RateLimitLayer::builder(MemoryBackend::new(), Quota::per_second(10))
        .policy(Policy::new("hour", Quota::per_hour(3)).unwrap())
        .clock(frozen(T0))
        .deny_cache(None)
        .build()
        .unwrap();
    let svc = layer.layer(ok_service());
    for _ in 0..3 {
        assert_eq!(
            svc.clone()
                .oneshot(from_ip("192.0.2.8"))
                .await
                .unwrap()
                .status(),
            200
        );
    }
    let res = svc.oneshot(from_ip("192.0.2.8")).await.unwrap();
    assert_eq!(res.status(), 429);
    // The per-second policy still has 7: the denied request took nothing from it.
    assert!(
        header(&res, "ratelimit").starts_with(r#""default";r=7;"#),
        "{}",
        header(&res, "ratelimit")
    );
    assert_eq!(
        header(&res, "x-ratelimit-limit"),
        "3",
        "legacy headers name the exhausted policy"
    );
}

#[tokio::test]
async fn a_request_without_a_key_is_rejected_by_default() {
    let layer = RateLimitLayer::builder(fixtures::memory(), Quota::per_minute(1))
        .build()
        .unwrap();
    let res = layer
        .layer(ok_service())
        .oneshot(Request::new(String::new()))
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(header(&res, "content-type"), "application/problem+json");
}

#[tokio::test]
async fn a_request_without_a_key_can_pass_or_share_a_quota() {
    let allow = RateLimitLayer::builder(fixtures::memory(), Quota::per_minute(1))
        .missing_key(MissingKey::Allow)
        .build()
        .unwrap()
        .layer(ok_service());
    for _ in 0..3 {
        let res = allow
            .clone()
            .oneshot(Request::new(String::new()))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.headers().get("ratelimit").is_none());
    }
    let shared = RateLimitLayer::builder(fixtures::memory(), Quota::per_minute(1))
        .key(HeaderKey::new(http::HeaderName::from_static("x-api-key")))
        .missing_key(MissingKey::Shared)
        .build()
        .unwrap()
        .layer(ok_service());
    assert_eq!(
        shared
            .clone()
            .oneshot(Request::new(String::new()))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        shared
            .clone()
            .oneshot(Request::new(String::new()))
            .await
            .unwrap()
            .status(),
        429
    );
    let with_key = Request::builder()
        .header("x-api-key", "k1")
        .body(String::new())
        .unwrap();
    assert_eq!(shared.oneshot(with_key).await.unwrap().status(), 200);
}
