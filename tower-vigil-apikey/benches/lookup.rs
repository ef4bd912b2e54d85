//! Requests per second through `ApiKeyLayer` (tower `Service::call` on an in-process service,
//! no network) for an L1 hit, an L2 hit (L1 TTL zero: every request revalidates against the
//! backend) and a store lookup (a new key every request: both tiers cold), on the memory
//! backend and on a redis-server this benchmark starts itself.
//!
//! Run: `cargo bench -p tower-vigil-apikey` (`BENCH_SECS=3` to measure longer).

// A benchmark reports its figures on stdout.
#![allow(clippy::print_stdout)]

use std::convert::Infallible;
use std::hint::black_box;
use std::time::{Duration, Instant};

use http::{Request, Response};
use tower::{Service, ServiceExt};
use tower_vigil_apikey::{ApiKeyCache, ApiKeyData, ApiKeyLayer, StaticKeyStore};
use tower_vigil_core::Backend;
use tower_vigil_core::{MemoryBackend, RedisBackend};
use tower_vigil_tests::RedisServer;

#[derive(Clone, Copy, PartialEq)]
enum Scenario {
    L1Hit,
    L2Hit,
    StoreLookup,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Self::L1Hit => "L1 hit",
            Self::L2Hit => "L2 hit",
            Self::StoreLookup => "store lookup",
        }
    }
}

fn key(i: usize) -> String {
    format!("bench-key-{i:016}")
}

async fn measure<B: Backend>(backend: B, scenario: Scenario, secs: f64) -> (f64, u64) {
    let store = StaticKeyStore::new();
    let mut builder = ApiKeyCache::builder(backend, store.clone());
    if scenario == Scenario::L2Hit {
        builder = builder.l1_ttl(Duration::ZERO);
    }
    let cache = builder.build().expect("cache");
    cache.ready().await;
    let keys = if scenario == Scenario::StoreLookup {
        400_000
    } else {
        1
    };
    for i in 0..keys {
        store.insert(
            &cache.hash_key(&key(i)),
            ApiKeyData::new(format!("k-{i}"), "u-1").permission("read"),
        );
    }
    let mut svc = tower::ServiceBuilder::new()
        .layer(ApiKeyLayer::new(cache))
        .service_fn(|_req: Request<()>| async { Ok::<_, Infallible>(Response::new(())) });
    let request = |i: usize| {
        Request::builder()
            .header(
                "x-api-key",
                key(if scenario == Scenario::StoreLookup {
                    i
                } else {
                    0
                }),
            )
            .body(())
            .expect("request")
    };
    // Warm up (and fill the caches for the hit scenarios).
    let mut next = 0;
    for _ in 0..100 {
        let res = svc
            .ready()
            .await
            .expect("ready")
            .call(request(next))
            .await
            .expect("call");
        assert_eq!(res.status(), 200);
        next += 1;
    }
    let start = Instant::now();
    let mut n = 0u64;
    'run: while start.elapsed().as_secs_f64() < secs {
        for _ in 0..64 {
            if scenario == Scenario::StoreLookup && next >= keys {
                break 'run;
            }
            let res = svc
                .ready()
                .await
                .expect("ready")
                .call(request(next))
                .await
                .expect("call");
            debug_assert_eq!(res.status(), 200);
            black_box(res);
            next += 1;
            n += 1;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    (n as f64 / elapsed, n)
}

fn main() {
    let secs: f64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let server = RedisServer::start();
    println!(
        "tower-vigil-apikey lookup benchmark: one task, sequential requests, {secs} s per row"
    );
    println!(
        "{:<8} {:<14} {:>14} {:>12} {:>12}",
        "backend", "scenario", "requests/s", "µs/request", "requests"
    );
    for scenario in [Scenario::L1Hit, Scenario::L2Hit, Scenario::StoreLookup] {
        let (rps, n) = rt.block_on(measure(MemoryBackend::new(), scenario, secs));
        row("memory", scenario, rps, n);
        let (rps, n) = rt.block_on(async {
            let redis = RedisBackend::builder(&server.url())
                .prefix(format!("bench{}", scenario as u8))
                .connect()
                .await
                .expect("redis");
            measure(redis, scenario, secs).await
        });
        row("redis", scenario, rps, n);
    }
}

fn row(backend: &str, scenario: Scenario, rps: f64, n: u64) {
    println!(
        "{:<8} {:<14} {:>14.0} {:>12.2} {:>12}",
        backend,
        scenario.name(),
        rps,
        1e6 / rps,
        n
    );
}
