//! Decisions per second for each algorithm, on memory and on a redis-server this benchmark
//! starts itself. Plain timing loops (a benchmark, not a test):
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-ratelimit cargo bench -p tower-vigil-ratelimit
//! ```
//!
//! Memory: one task deciding in a loop over 1,000 keys at 100 per second each (so, at these
//! rates, mostly denials after the first second; a denial writes nothing).
//! Redis: 64 tasks sharing one multiplexed connection, so the figure is throughput, not the
//! latency of one call (which is about one loopback round trip).
#![allow(clippy::print_stdout, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tower_vigil_core::{MemoryBackend, RedisBackend};
use tower_vigil_ratelimit::{Acquire, Algorithm, Policy, Quota, acquire};
use tower_vigil_tests::RedisServer;

const KEYS: usize = 1_000;
const RUN: Duration = Duration::from_secs(2);
const REDIS_TASKS: usize = 64;

fn policies(algorithm: Algorithm) -> Arc<[Policy]> {
    Arc::new([Policy::with_algorithm("default", Quota::per_second(100), algorithm).unwrap()])
}

fn keys() -> Arc<Vec<String>> {
    Arc::new(
        (0..KEYS)
            .map(|i| format!("ip:10.0.{}.{}", i / 256, i % 256))
            .collect(),
    )
}

/// Decisions per second on memory, one task, for `run`.
async fn memory(algorithm: Algorithm, run: Duration) -> f64 {
    let store = MemoryBackend::new();
    let (policies, keys) = (policies(algorithm), keys());
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < run {
        for _ in 0..1_000 {
            let key = &keys[n as usize % KEYS];
            std::hint::black_box(acquire(&store, Acquire::new(key, &policies)).await.unwrap());
            n += 1;
        }
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// Decisions per second on Redis, `REDIS_TASKS` concurrent tasks.
async fn redis(store: &RedisBackend, algorithm: Algorithm) -> f64 {
    let (policies, keys) = (policies(algorithm), keys());
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..REDIS_TASKS {
        let (store, policies, keys, done) =
            (store.clone(), policies.clone(), keys.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = t;
            while started.elapsed() < RUN {
                let key = &keys[i % KEYS];
                std::hint::black_box(acquire(&store, Acquire::new(key, &policies)).await.unwrap());
                done.fetch_add(1, Ordering::Relaxed);
                i += REDIS_TASKS;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = RedisServer::start();
    rt.block_on(async {
        let store = RedisBackend::builder(&server.url())
            .timeout(Duration::from_secs(5))
            .connect()
            .await
            .unwrap();
        // Warm up the allocator, the connection and the script cache first.
        memory(Algorithm::Gcra, Duration::from_millis(500)).await;
        redis(&store, Algorithm::Gcra).await;
        println!("{:<24} {:>16} {:>16}", "algorithm", "memory /s", "redis /s");
        for algorithm in Algorithm::ALL {
            let m = memory(algorithm, RUN).await;
            let r = redis(&store, algorithm).await;
            println!("{:<24} {:>16.0} {:>16.0}", algorithm.to_string(), m, r);
        }
    });
}
