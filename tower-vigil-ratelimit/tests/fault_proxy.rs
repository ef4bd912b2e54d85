//! Rate limiting on a Redis that stops answering without closing anything (a stall through the
//! fault proxy, a frozen cluster), then heals late, or has its connections cut:
//! - every answer keeps its deadline (fail open, or 503 when closed),
//! - a decision arriving late is never taken for a later request's (key B gets B's decision),
//! - decisions come from Redis again within seconds, without a restart.

mod common;

use std::time::Duration;

use common::{from_ip, ok_service};
use http::Request;
use tower::{Layer, ServiceExt};
use tower_vigil_core::{FailurePolicy, RedisBackend};
use tower_vigil_ratelimit::{Quota, RateLimitLayer};
use tower_vigil_tests::faults::{self, Faulty};

/// Keys checked at once.
const KEYS: u32 = 20;
/// A day's quota: no unit comes back during the test, so "remaining" is exact.
const LIMIT: u32 = 1000;

/// A request from `ip` costing `cost` units (the `x-cost` header).
fn request(ip: &str, cost: u32) -> Request<String> {
    let mut req = from_ip(ip);
    req.headers_mut().insert("x-cost", cost.into());
    req
}

fn layer(backend: RedisBackend, failure: FailurePolicy) -> RateLimitLayer<RedisBackend> {
    RateLimitLayer::builder(backend, Quota::new(LIMIT, Duration::from_secs(86_400)))
        .cost(|head| {
            head.headers()
                .get("x-cost")
                .and_then(|v| v.to_str().ok()?.parse().ok())
                .unwrap_or(1)
        })
        .failure_policy(failure)
        .deny_cache(None)
        .build()
        .unwrap()
}

/// The `r` of the `RateLimit` header; `None` when the store was not asked (failed open).
fn remaining<B>(res: &http::Response<B>) -> Option<u32> {
    let value = res.headers().get("ratelimit")?.to_str().unwrap();
    let r = value.split(';').find_map(|p| p.strip_prefix("r="))?;
    Some(r.parse().unwrap())
}

/// Key `10.0.{tag}.{i}` has used `i + 1` units: each key's remaining count is its own.
async fn seed(backend: &RedisBackend, tag: u32) {
    let svc = layer(backend.clone(), FailurePolicy::Open).layer(ok_service());
    for i in 0..KEYS {
        let res = svc
            .clone()
            .oneshot(request(&format!("10.0.{tag}.{i}"), i + 1))
            .await
            .unwrap();
        assert_eq!(remaining(&res), Some(LIMIT - i - 1));
    }
}

/// What one key has used: known units, and units of requests that failed (timed out) and may
/// still have been charged when their held script reached Redis late.
#[derive(Clone, Copy, Default)]
struct Spent {
    known: u32,
    maybe: u32,
}

/// One request per key `10.0.{tag}.*` at once; returns how many were decided by the store,
/// after checking that each such decision is its own key's.
async fn decisions_are_their_own(backend: &RedisBackend, tag: u32, spent: &mut [Spent]) -> usize {
    let svc = layer(backend.clone(), FailurePolicy::Open).layer(ok_service());
    let calls: Vec<_> = (0..KEYS)
        .map(|i| {
            let svc = svc.clone();
            tokio::spawn(async move {
                let res = faults::within_deadline(
                    "a rate-limit decision",
                    svc.oneshot(request(&format!("10.0.{tag}.{i}"), 1)),
                )
                .await
                .unwrap();
                assert_eq!(res.status(), 200, "allowed or failed open");
                remaining(&res)
            })
        })
        .collect();
    let mut decided = 0;
    for (i, call) in calls.into_iter().enumerate() {
        let slot = &mut spent[i];
        match call.await.unwrap() {
            Some(r) => {
                let own = LIMIT - slot.known - 1;
                assert!(
                    r <= own && r + slot.maybe >= own,
                    "key 10.0.{tag}.{i}: remaining {r}, its own count says {own} (-{})",
                    slot.maybe
                );
                *slot = Spent {
                    known: LIMIT - r,
                    maybe: 0,
                };
                decided += 1;
            }
            None => slot.maybe += 1,
        }
    }
    decided
}

async fn stall_then_heal(mut redis: Faulty, backend: RedisBackend) {
    seed(&backend, 1).await;
    seed(&backend, 2).await;
    let seeded = || -> Vec<Spent> { (1..=KEYS).map(|known| Spent { known, maybe: 0 }).collect() };
    let (mut first, mut second) = (seeded(), seeded());
    let mut others = vec![Spent::default(); KEYS as usize];

    redis.stall();
    // Fail open, each within the deadline; these requests' scripts are held by the stall.
    assert_eq!(decisions_are_their_own(&backend, 3, &mut others).await, 0);
    let closed = layer(backend.clone(), FailurePolicy::Closed).layer(ok_service());
    let res = faults::within_deadline("closed", closed.oneshot(request("10.0.9.9", 1)))
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let local = layer(backend.clone(), FailurePolicy::Local).layer(ok_service());
    let res = faults::within_deadline("local", local.oneshot(request("10.0.9.9", 1)))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    redis.heal();
    // The held decisions for keys 10.0.3.* arrive now, while keys 10.0.1.* are asked.
    let mut decided = decisions_are_their_own(&backend, 1, &mut first).await;
    decided += decisions_are_their_own(&backend, 2, &mut second).await;
    assert!(decided > 0, "{}: Redis decides again", redis.name());
    let svc = layer(backend.clone(), FailurePolicy::Open).layer(ok_service());
    faults::recovery(
        &format!("{} rate limit after heal", redis.name()),
        async || {
            let res = svc.clone().oneshot(request("10.0.8.1", 1)).await.unwrap();
            remaining(&res).is_some()
        },
    )
    .await;
    redis.cut();
    faults::recovery(
        &format!("{} rate limit after a cut", redis.name()),
        async || {
            let res = svc.clone().oneshot(request("10.0.8.2", 1)).await.unwrap();
            remaining(&res).is_some()
        },
    )
    .await;
    if redis.black_hole() {
        faults::recovery(
            &format!("{} rate limit after a black hole", redis.name()),
            async || {
                let res = svc.clone().oneshot(request("10.0.8.2", 1)).await.unwrap();
                remaining(&res).is_some()
            },
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_stalled_healed_and_cut() {
    let (redis, backend) = Faulty::standalone().await;
    stall_then_heal(redis, backend).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_frozen_and_thawed() {
    let (redis, backend) = Faulty::cluster().await;
    stall_then_heal(redis, backend).await;
}
