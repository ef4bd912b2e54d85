//! Layer cost: the time one request spends in each in-process layer, with no network.
//!
//! The macro part measures what a user sees, but on a 2-core machine the kernel's loopback TCP
//! and wrk take most of the CPU, so a layer's own cost hides in that noise. Here each app
//! (the same axum routers as the macro part) is driven through `Service::call` in a loop on one
//! task, with the peer address set as axum's `ConnectInfo` would, and the figure is the
//! nanoseconds each request takes beyond the bare route measured in the same round.

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http::Request;
use tower::ServiceExt;
use tower_service::Service;
use tower_vigil_core::MemoryBackend;

use crate::macro_bench::apps;
use crate::stats::median;

/// One app's figures: ns per request in each round.
pub(crate) struct CostRow {
    pub(crate) label: &'static str,
    pub(crate) ns: Vec<f64>,
}

pub(crate) struct LayerCost {
    /// `rows[0]` is the bare route.
    pub(crate) rows: Vec<CostRow>,
}

impl LayerCost {
    /// Median over rounds of the row's ns per request minus the bare route's in that round.
    pub(crate) fn added_ns(&self, row: &CostRow) -> f64 {
        let bare = &self.rows[0].ns;
        median(
            &row.ns
                .iter()
                .zip(bare)
                .map(|(a, b)| a - b)
                .collect::<Vec<_>>(),
        )
    }
}

fn request() -> Request<Body> {
    let mut req = Request::new(Body::empty());
    let peer = SocketAddr::from(([10, 1, 2, 3], 40_000));
    req.extensions_mut().insert(ConnectInfo(peer));
    req
}

/// CPU ns per request of `app` over `run` with [`TASKS`] tasks calling clones of it at once
/// (one per worker: on one hot key, as in the macro part, so contention between the cores
/// counts too), after a short warm-up.
async fn measure(app: &mut Router, run: Duration) -> f64 {
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let mut app = app.clone();
            tokio::spawn(async move { measure_one(&mut app, run).await })
        })
        .collect();
    let mut requests = 0u64;
    let mut nanos = 0u128;
    for t in tasks {
        let (n, elapsed) = t.await.expect("layer cost task");
        requests += n;
        nanos += elapsed.as_nanos();
    }
    nanos as f64 / requests as f64
}

/// Every quota here admits more than two cores can send in process (the macro part's would
/// run dry), so each layer measures its allow path.
const PER_SECOND: u32 = 100_000_000;

/// Tasks at once: the runtime's two workers.
const TASKS: usize = 2;

/// Requests sent by one task and the time it took.
async fn measure_one(app: &mut Router, run: Duration) -> (u64, Duration) {
    for _ in 0..1_000 {
        black_box(one(app).await);
    }
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < run {
        for _ in 0..1_000 {
            black_box(one(app).await);
        }
        n += 1_000;
    }
    (n, started.elapsed())
}

async fn one(app: &mut Router) -> u16 {
    let svc = ServiceExt::<Request<Body>>::ready(app)
        .await
        .expect("ready");
    let res = svc.call(request()).await.expect("infallible");
    let status = res.status().as_u16();
    assert!(status < 300, "layer cost: status {status}");
    status
}

/// The apps, by the macro part's scenario ids; `only` (the macro ids of `--only`) keeps the
/// bare route and those, as there.
pub(crate) async fn run(per_app: Duration, rounds: usize, only: &[String]) -> LayerCost {
    let mut apps: Vec<(&'static str, &'static str, Router)> = vec![
        ("bare", "bare axum route", apps::bare()),
        (
            "governor",
            "+ tower-governor 0.8",
            apps::governor_at(PER_SECOND),
        ),
        (
            "rl-memory",
            "+ rate limit, memory",
            apps::rate_limit_at(MemoryBackend::new(), true, PER_SECOND),
        ),
        (
            "rl-memory-no-headers",
            "+ rate limit, memory, headers off",
            apps::rate_limit_at(MemoryBackend::new(), false, PER_SECOND),
        ),
    ];
    if !only.is_empty() {
        apps.retain(|(id, ..)| *id == "bare" || only.iter().any(|o| o == id));
    }
    let mut rows: Vec<CostRow> = apps
        .iter()
        .map(|(_, label, _)| CostRow { label, ns: vec![] })
        .collect();
    for _ in 0..rounds {
        for (i, (_, _, app)) in apps.iter_mut().enumerate() {
            rows[i].ns.push(measure(app, per_app).await);
        }
    }
    LayerCost { rows }
}
