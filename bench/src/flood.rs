//! Flood: one key hammering far over its limit through `RateLimitLayer` on Redis, with the deny
//! cache on (the default) and off; backend calls counted by Redis (`INFO commandstats`,
//! `cmdstat_evalsha`), so nothing of ours does the counting.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http::{Request, Response};
use tower::{ServiceBuilder, ServiceExt, service_fn};
use tower_vigil_core::RedisBackend;
use tower_vigil_ratelimit::{Quota, RateLimitLayer};
use tower_vigil_tests::RedisServer;

/// The flooding client's quota: 10 per second.
pub(crate) const QUOTA: u32 = 10;
/// Requests in flight from the flooding key.
pub(crate) const IN_FLIGHT: usize = 16;

#[derive(Default)]
pub(crate) struct FloodResult {
    /// Backend calls per second, per round: with the deny cache, without.
    pub(crate) calls_with: Vec<f64>,
    pub(crate) calls_without: Vec<f64>,
    /// Requests answered per second, per round.
    pub(crate) requests_with: Vec<f64>,
    pub(crate) requests_without: Vec<f64>,
}

fn evalsha_calls(server: &RedisServer) -> u64 {
    let text = server
        .command(&["INFO", "commandstats"])
        .unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("cmdstat_evalsha:calls="))
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// (backend calls/s, requests/s) for `run` with or without the deny cache.
async fn once(
    server: &RedisServer,
    store: &RedisBackend,
    deny_cache: bool,
    run: Duration,
) -> (f64, f64) {
    let mut builder = RateLimitLayer::builder(store.clone(), Quota::per_second(QUOTA));
    if !deny_cache {
        builder = builder.deny_cache(None);
    }
    let svc = ServiceBuilder::new()
        .layer(builder.build().expect("rate limit"))
        .service(service_fn(|_req: Request<String>| async {
            Ok::<_, Infallible>(Response::new(String::new()))
        }));
    let peer: SocketAddr = ([203, 0, 113, 7], 40_000).into();
    let done = Arc::new(AtomicU64::new(0));
    let before = evalsha_calls(server);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..IN_FLIGHT {
        let (svc, done) = (svc.clone(), done.clone());
        tasks.spawn(async move {
            while started.elapsed() < run {
                let mut req = Request::new(String::new());
                req.extensions_mut().insert(peer);
                let res = svc.clone().oneshot(req).await.expect("call");
                std::hint::black_box(res.status());
                done.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let secs = started.elapsed().as_secs_f64();
    let calls = evalsha_calls(server) - before;
    (
        calls as f64 / secs,
        done.load(Ordering::Relaxed) as f64 / secs,
    )
}

pub(crate) async fn run(run: Duration, rounds: usize) -> FloodResult {
    let server = RedisServer::start();
    let store = crate::server::bench_backend(&server.url()).await;
    let mut r = FloodResult::default();
    for round in 0..rounds {
        server.command(&["FLUSHALL"]);
        let (c, q) = once(&server, &store, true, run).await;
        r.calls_with.push(c);
        r.requests_with.push(q);
        server.command(&["FLUSHALL"]);
        let (c, q) = once(&server, &store, false, run).await;
        r.calls_without.push(c);
        r.requests_without.push(q);
        eprintln!(
            "flood round {}/{rounds}: deny cache on {:.0} calls/s ({:.0} req/s), off {:.0} calls/s ({:.0} req/s)",
            round + 1,
            r.calls_with[round],
            r.requests_with[round],
            r.calls_without[round],
            r.requests_without[round]
        );
    }
    r
}
