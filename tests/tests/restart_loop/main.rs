//! Issue 13, restart loops: Redis killed (`SIGKILL`, as a crash or an OOM kill) and restarted
//! on the same port every few seconds while clients keep sending requests through the whole
//! stack (rate limit, API key, session, idempotency over one `RedisBackend`).
//!
//! Asserted: no panic anywhere (a panic hook counts them, background tasks included), no
//! request hung (each answers within `load::HANG_BOUND`), every answer one the layers' failure
//! policies allow and never a 500, no write a 2xx promised lost while Redis was not killed,
//! the rate limiter's counters add up to the requests sent, and everything recovers without
//! a restart of the stack. `restart_loop_cluster.rs` does the same to the masters of a
//! 3-master cluster in turn.
//!
//! 15 s by default (CI); `VIGIL_RESTART_LOOP_SECS=120` (what `scripts/restart-loop` sets) for
//! a longer run.

mod driver;
mod load;
mod stack;

use tower_vigil_core::RedisBackend;
use tower_vigil_tests::{RedisServer, fixtures};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_every_few_seconds_under_load() {
    let server = tokio::task::spawn_blocking(RedisServer::start)
        .await
        .unwrap();
    let backend = RedisBackend::builder(&server.url())
        .prefix(fixtures::unique_prefix())
        .timeout(driver::TIMEOUT)
        .connect_timeout(driver::TIMEOUT)
        .connect()
        .await
        .unwrap();
    driver::run(server, backend).await;
}
