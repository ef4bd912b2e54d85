//! A stopped Redis: fail open, closed or local, every answer within the backend timeout (the
//! bound asserted is generous: this is a hang check, not a speed claim), and recovery once
//! Redis is back.

mod common;

use std::time::{Duration, Instant};

use common::{from_ip, header, json, ok_service};
use tower::{Layer, ServiceExt};
use tower_vigil_core::{FailurePolicy, RedisBackend};
use tower_vigil_ratelimit::{Quota, RateLimitLayer};
use tower_vigil_tests::RedisServer;

const TIMEOUT: Duration = Duration::from_millis(250);
const HANG: Duration = Duration::from_secs(2);

async fn backend(server: &RedisServer) -> RedisBackend {
    RedisBackend::builder(&server.url())
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .connect()
        .await
        .unwrap()
}

async fn statuses(policy: FailurePolicy) -> (Vec<u16>, Vec<u16>, RedisServer) {
    let mut server = RedisServer::start();
    let layer = RateLimitLayer::builder(backend(&server).await, Quota::per_minute(2))
        .failure_policy(policy)
        .deny_cache(None)
        .build()
        .unwrap();
    let svc = layer.layer(ok_service());
    assert_eq!(
        svc.clone()
            .oneshot(from_ip("192.0.2.1"))
            .await
            .unwrap()
            .status(),
        200
    );
    server.stop();
    let mut down = Vec::new();
    for _ in 0..4 {
        let started = Instant::now();
        let res = svc.clone().oneshot(from_ip("192.0.2.50")).await.unwrap();
        assert!(
            started.elapsed() < HANG,
            "{policy}: took {:?}",
            started.elapsed()
        );
        if res.status() == 503 {
            assert_eq!(header(&res, "content-type"), "application/problem+json");
            assert_eq!(json(res).await["status"], 503);
            down.push(503);
        } else {
            down.push(res.status().as_u16());
        }
    }
    server.restart();
    let mut up = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    // The connection comes back by itself; a call or two may still fail while it does.
    loop {
        let res = svc.clone().oneshot(from_ip("192.0.2.60")).await.unwrap();
        if res.headers().contains_key("ratelimit") || Instant::now() > deadline {
            up.push(res.status().as_u16());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for _ in 0..2 {
        up.push(
            svc.clone()
                .oneshot(from_ip("192.0.2.60"))
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    (down, up, server)
}

#[tokio::test]
async fn fail_open_lets_requests_through() {
    let (down, up, _server) = statuses(FailurePolicy::Open).await;
    assert_eq!(down, [200, 200, 200, 200]);
    assert_eq!(up, [200, 200, 429], "limiting resumes once Redis is back");
}

#[tokio::test]
async fn fail_closed_answers_503() {
    let (down, up, _server) = statuses(FailurePolicy::Closed).await;
    assert_eq!(down, [503, 503, 503, 503]);
    assert_eq!(up, [200, 200, 429]);
}

#[tokio::test]
async fn fail_local_limits_in_process_with_the_same_quota() {
    let (down, up, _server) = statuses(FailurePolicy::Local).await;
    assert_eq!(down, [200, 200, 429, 429]);
    assert_eq!(up, [200, 200, 429]);
}
