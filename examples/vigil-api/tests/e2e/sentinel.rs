//! The server on Redis Sentinel (`REDIS_SENTINEL_URLS`, `REDIS_SENTINEL_MASTER`): it serves,
//! its probe names the backend, and after the sentinels fail the master over it serves again
//! within 10 s, without a restart.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use tower_vigil_tests::RedisSentinel;

use crate::config::{Config, DEMO_KEY};
use crate::http::{analyze, expect_json, get};
use crate::server::{Server, client};

const RECOVERY: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_follows_a_sentinel_failover() {
    let setup = tokio::task::spawn_blocking(RedisSentinel::start)
        .await
        .expect("starting the sentinels");
    let server = Server::start_on_sentinel(&setup, Config::default()).await;
    let api = client();
    let (_, health) = expect_json(get(&api, &server, "/health/redis").await, StatusCode::OK).await;
    assert_eq!(health["backend"], "redis-sentinel", "{health}");
    let body = json!({"text": "hello"});
    let key = |n: u32| format!("\"sentinel-{n}\"");
    expect_json(
        analyze(&api, &server, Some(DEMO_KEY), Some(&key(0)), &body).await,
        StatusCode::OK,
    )
    .await;

    let setup = tokio::task::spawn_blocking(move || {
        setup.failover();
        setup
    })
    .await
    .expect("failing over");
    let switched = Instant::now();
    let keys_on_new_master = || {
        setup
            .master_command(&["DBSIZE"])
            .and_then(|n| n.trim_start_matches(':').parse::<u64>().ok())
            .expect("DBSIZE on the new master")
    };
    let before = keys_on_new_master();
    // Each keyed request writes a new idempotency record. Answering is not enough: until the
    // sentinels reconfigure it, the old master still takes writes (a split brain whose writes
    // are lost), so the record must land on the new one.
    let mut n = 1;
    loop {
        let res = analyze(&api, &server, Some(DEMO_KEY), Some(&key(n)), &body).await;
        if res.status() == StatusCode::OK && keys_on_new_master() > before {
            break;
        }
        assert!(
            switched.elapsed() < RECOVERY,
            "still {} {:?} after the failover",
            res.status(),
            switched.elapsed()
        );
        n += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
