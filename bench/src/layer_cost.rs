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
use http::{HeaderName, HeaderValue, Request};
use tower::ServiceExt;
use tower_service::Service;
use tower_vigil_core::MemoryBackend;

use crate::macro_bench::apps;
use crate::stats::median;

/// One app's figures: ns per request in each round.
pub(crate) struct CostRow {
    /// The macro part's scenario id.
    pub(crate) id: &'static str,
    pub(crate) label: &'static str,
    pub(crate) ns: Vec<f64>,
}

pub(crate) struct LayerCost {
    /// `rows[0]` is the bare route.
    pub(crate) rows: Vec<CostRow>,
    /// Instructions per request of each row's app, counted by callgrind, or why they were
    /// not (valgrind not installed, a failed run).
    pub(crate) instructions: Result<Vec<f64>, String>,
}

impl LayerCost {
    /// The row of scenario `id`, with its index (for `instructions`).
    pub(crate) fn row(&self, id: &str) -> Option<(usize, &CostRow)> {
        self.rows.iter().enumerate().find(|(_, r)| r.id == id)
    }

    /// Instructions per request the row of `id` adds to the bare route (NaN when not counted).
    pub(crate) fn added_instructions(&self, id: &str) -> f64 {
        match (&self.instructions, self.row(id)) {
            (Ok(counts), Some((i, _))) if counts.len() > i => counts[i] - counts[0],
            _ => f64::NAN,
        }
    }

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

/// One app of this part: an axum router and the requests it is sent.
pub(crate) struct App {
    pub(crate) id: &'static str,
    pub(crate) label: &'static str,
    router: Router,
    request: RequestTemplate,
}

impl App {
    fn new(id: &'static str, label: &'static str, router: Router) -> Self {
        Self {
            id,
            label,
            router,
            request: RequestTemplate::default(),
        }
    }
}

/// A GET from one peer (as axum's `ConnectInfo`), with one header when the app needs it.
#[derive(Clone, Default)]
struct RequestTemplate(Option<(HeaderName, HeaderValue)>);

impl RequestTemplate {
    fn build(&self) -> Request<Body> {
        let mut req = Request::new(Body::empty());
        let peer = SocketAddr::from(([10, 1, 2, 3], 40_000));
        req.extensions_mut().insert(ConnectInfo(peer));
        if let Some((name, value)) = &self.0 {
            req.headers_mut().insert(name.clone(), value.clone());
        }
        req
    }
}

/// CPU ns per request of `app` over `run` with [`TASKS`] tasks calling clones of it at once
/// (one per worker: on one hot key, as in the macro part, so contention between the cores
/// counts too), after a short warm-up.
async fn measure(app: &App, run: Duration) -> f64 {
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let mut router = app.router.clone();
            let request = app.request.clone();
            tokio::spawn(async move { measure_one(&mut router, &request, run).await })
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
async fn measure_one(
    app: &mut Router,
    request: &RequestTemplate,
    run: Duration,
) -> (u64, Duration) {
    for _ in 0..1_000 {
        black_box(one(app, request.build()).await);
    }
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < run {
        for _ in 0..1_000 {
            black_box(one(app, request.build()).await);
        }
        n += 1_000;
    }
    (n, started.elapsed())
}

async fn one(app: &mut Router, request: Request<Body>) -> u16 {
    let svc = ServiceExt::<Request<Body>>::ready(app)
        .await
        .expect("ready");
    let res = svc.call(request).await.expect("infallible");
    let status = res.status().as_u16();
    assert!(status < 300, "layer cost: status {status}");
    status
}

/// Sends `n` requests to `app` one after another after the same warm-up as the timed runs:
/// what callgrind counts (`instructions.rs`).
pub(crate) async fn send(app: &App, n: u64) {
    let mut router = app.router.clone();
    for _ in 0..1_000 + n {
        black_box(one(&mut router, app.request.build()).await);
    }
}

/// The apps of this part, by the macro part's scenario ids, and their labels.
const APPS: [(&str, &str); 5] = [
    ("bare", "bare axum route"),
    ("governor", "+ tower-governor 0.8"),
    ("rl-memory", "+ rate limit, memory"),
    ("rl-memory-no-headers", "+ rate limit, memory, headers off"),
    ("apikey-l1", "+ API key, L1 hit"),
];

/// The apps; `only` (the macro ids of `--only`) keeps the bare route and those, as there.
/// Every backend is in memory: no I/O in the figures.
pub(crate) async fn apps(only: &[String]) -> Vec<App> {
    let mut apps = Vec::new();
    for (id, label) in APPS {
        if id == "bare" || only.is_empty() || only.iter().any(|o| o == id) {
            apps.push(app(id, label).await);
        }
    }
    apps
}

/// The one app `id`, built alone: a callgrind child must not also build the others, whose
/// background work (a cache's housekeeping, a subscription's task) would be counted too.
pub(crate) async fn only(id: &str) -> Option<App> {
    let (id, label) = APPS.into_iter().find(|(i, _)| *i == id)?;
    Some(app(id, label).await)
}

async fn app(id: &'static str, label: &'static str) -> App {
    let router = match id {
        "governor" => apps::governor_at(PER_SECOND),
        "rl-memory" => apps::rate_limit_at(MemoryBackend::new(), true, PER_SECOND),
        "rl-memory-no-headers" => apps::rate_limit_at(MemoryBackend::new(), false, PER_SECOND),
        "apikey-l1" => {
            let (router, key) = apps::api_key(MemoryBackend::new(), true).await;
            let mut app = App::new(id, label, router);
            app.request = RequestTemplate(Some((
                HeaderName::from_static("x-api-key"),
                HeaderValue::from_str(&key).expect("a generated key is a header value"),
            )));
            return app;
        }
        _ => apps::bare(),
    };
    App::new(id, label, router)
}

/// Every app, timed in alternation for `rounds`, then counted by callgrind.
pub(crate) async fn run(per_app: Duration, rounds: usize, only: &[String]) -> LayerCost {
    let apps = apps(only).await;
    let mut rows: Vec<CostRow> = apps
        .iter()
        .map(|a| CostRow {
            id: a.id,
            label: a.label,
            ns: vec![],
        })
        .collect();
    for _ in 0..rounds {
        for (i, app) in apps.iter().enumerate() {
            rows[i].ns.push(measure(app, per_app).await);
        }
    }
    let ids: Vec<&str> = apps.iter().map(|a| a.id).collect();
    let instructions = crate::instructions::count_all(&ids).await;
    LayerCost { rows, instructions }
}
