//! Redis stopped and restarted under a running server: what still works, what answers 503,
//! that nothing hangs, and that everything recovers without restarting the server.

use std::future::Future;
use std::time::{Duration, Instant};

use reqwest::{Response, StatusCode};
use serde_json::json;
use tower_vigil_tests::RedisServer;

use crate::config::{ALICE, Config, DEMO_KEY};
use crate::http::{analyze, expect_json, expect_problem, expect_status, get, login};
use crate::server::{Server, browser, client};

/// A hang check, not a speed claim: every answer while Redis is down comes well within this.
const HANG_BOUND: Duration = Duration::from_secs(2);
/// How long the server may take to notice Redis is back.
const RECOVERY: Duration = Duration::from_secs(15);

async fn bounded(what: &str, request: impl Future<Output = Response>) -> Response {
    tokio::time::timeout(HANG_BOUND, request)
        .await
        .unwrap_or_else(|_| panic!("{what} did not answer within {HANG_BOUND:?} with Redis down"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_and_restarted_under_the_running_server() {
    let redis = tokio::task::spawn_blocking(RedisServer::start)
        .await
        .expect("starting redis");
    let server = Server::start_on_redis(&redis.url(), Config::default()).await;
    let (api, b) = (client(), browser());
    let body = json!({"text": "hello"});

    // All well: the key is validated (and cached), a session is live.
    expect_json(
        analyze(&api, &server, Some(DEMO_KEY), None, &body).await,
        StatusCode::OK,
    )
    .await;
    expect_json(
        analyze(&api, &server, Some(DEMO_KEY), Some("before"), &body).await,
        StatusCode::OK,
    )
    .await;
    expect_status(login(&b, &server, ALICE).await, StatusCode::OK).await;
    expect_json(get(&b, &server, "/me").await, StatusCode::OK).await;

    let mut redis = tokio::task::spawn_blocking(move || {
        let mut redis = redis;
        redis.stop();
        redis
    })
    .await
    .expect("stopping redis");

    // The rate limit fails open, and the API-key cache asks the key store (SQLite is up) before
    // it would serve its in-process copy, so a revocation made during the outage still counts.
    for _ in 0..3 {
        let res = bounded(
            "analyze",
            analyze(&api, &server, Some(DEMO_KEY), None, &body),
        )
        .await;
        let (_, verdict) = expect_json(res, StatusCode::OK).await;
        assert_eq!(verdict["verdict"], "ALLOWED");
    }
    // Idempotency cannot promise anything without its store.
    let res = bounded(
        "idempotent analyze",
        analyze(&api, &server, Some(DEMO_KEY), Some("during"), &body),
    )
    .await;
    expect_problem(res, StatusCode::SERVICE_UNAVAILABLE).await;
    // Sessions live in Redis.
    expect_problem(
        bounded("/me", get(&b, &server, "/me")).await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    expect_problem(
        bounded("/login", login(&browser(), &server, ALICE)).await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    let res = bounded("/health/redis", get(&api, &server, "/health/redis")).await;
    let (_, health) = expect_json(res, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(health["status"], "unhealthy", "{health}");
    assert!(health["error"].is_string(), "{health}");

    redis = tokio::task::spawn_blocking(move || {
        redis.restart();
        redis
    })
    .await
    .expect("restarting redis");

    // Everything recovers by itself (the restarted Redis is empty: a new login is needed).
    let start = Instant::now();
    let b = browser();
    loop {
        let healthy = get(&api, &server, "/health/redis").await.status() == StatusCode::OK;
        let idempotent = analyze(&api, &server, Some(DEMO_KEY), Some("after"), &body)
            .await
            .status()
            == StatusCode::OK;
        let logged_in = healthy && login(&b, &server, ALICE).await.status() == StatusCode::OK;
        if healthy && idempotent && logged_in {
            break;
        }
        assert!(
            start.elapsed() < RECOVERY,
            "no recovery {RECOVERY:?} after Redis came back (health {healthy}, idempotency {idempotent}, login {logged_in})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, me) = expect_json(get(&b, &server, "/me").await, StatusCode::OK).await;
    assert_eq!(me["userId"], "u-alice");
    let res = analyze(&api, &server, Some(DEMO_KEY), Some("after"), &body).await;
    let (headers, _) = expect_json(res, StatusCode::OK).await;
    assert_eq!(headers["idempotent-replayed"], "true");
    assert!(headers.contains_key("x-ratelimit-remaining"), "{headers:?}");
    drop(redis);
}
