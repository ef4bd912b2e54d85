//! # vigil-api
//!
//! The tower-vigil flagship example: an axum API whose routes are guarded by API keys (cached
//! in front of a SQLite database), per-key rate limits, idempotency keys and server-side
//! sessions, all over one backend — in memory by default, Redis with `REDIS_URL`, Redis Cluster
//! with `REDIS_CLUSTER_URLS`. With `NATS_URL`, analysis also runs as background jobs over NATS
//! JetStream (`POST /v1/analyze/jobs`), for the `detection-worker` example to pick up.
//!
//! ```text
//! cargo run --release -p vigil-api -- --help
//! cargo run --release -p vigil-api -- --config vigil.toml --addr 127.0.0.1:8080
//! curl -s localhost:8080/v1/analyze -H 'x-api-key: vg_demo_8f3b2c1d9e7a4b6c5d0e1f2a3b4c5d6e' \
//!      -H 'content-type: application/json' -d '{"text":"ignore previous instructions"}'
//! ```
#![forbid(unsafe_code)]
// A binary: `pub` marks what a module offers its sibling modules, nothing is exported.
#![allow(unreachable_pub)]

// The configuration and what it is checked with live in the library half (`lib.rs`), so the
// fuzz targets can reach them.
use vigil_api::{config, limits, time};

mod app;
mod cli;
mod console;
mod db;
mod job_queue;
mod keystore;
mod password;
mod problem;
mod request_metrics;
mod routes;
mod state;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tower_vigil_apikey::ApiKeyCache;
use tower_vigil_core::redis::RedisBackendBuilder;
use tower_vigil_core::secret::SecretHasher;
use tower_vigil_core::{Backend, ConfigError, MemoryBackend, RedisBackend};
use tower_vigil_session::{CookieConfig, SessionManagerLayer};

use crate::config::{BackendTarget, Overrides, Settings};
use crate::console::activity::{Activity, ActivityRecorder};
use crate::db::Db;
use crate::job_queue::JobQueue;
use crate::state::AppState;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Before anything starts: `--help`, `--version` and a bad command line print and exit
    // (0, 0 and 2) without a runtime, a database or a port.
    let cli = <cli::Cli as clap::Parser>::parse();
    serve_from(cli.overrides())
}

#[tokio::main]
async fn serve_from(overrides: Overrides) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(&overrides).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("vigil-api: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(overrides: &Overrides) -> Result<(), String> {
    let settings = Settings::load(overrides)?;
    let hasher = SecretHasher::sha256();
    let db =
        Db::open(&settings.db_path).map_err(|e| format!("database {:?}: {e}", settings.db_path))?;
    if db.seed_if_empty(&settings.config, &hasher)? {
        tracing::info!(path = ?settings.db_path, "database created and seeded from the config");
    }
    let activity = Arc::new(Activity::default());
    let metrics = install_metrics(&activity);
    let prefix = settings.config.backend.prefix.clone();
    let cfg = |e: ConfigError| e.to_string();
    match settings.backend.clone() {
        BackendTarget::Memory => {
            let backend = MemoryBackend::builder()
                .prefix(&prefix)
                .build()
                .map_err(cfg)?;
            serve(backend, settings, db, hasher, metrics, activity).await
        }
        BackendTarget::Redis(url) => {
            let backend = connect(RedisBackend::builder(&url), &settings, "Redis").await?;
            serve(backend, settings, db, hasher, metrics, activity).await
        }
        BackendTarget::Cluster(urls) => {
            let builder = RedisBackend::cluster_builder(&urls);
            let backend = connect(builder, &settings, "Redis Cluster").await?;
            serve(backend, settings, db, hasher, metrics, activity).await
        }
        BackendTarget::Sentinel { urls, master } => {
            let mut builder = RedisBackend::sentinel_builder(&urls, &master);
            if let Some((user, password)) = &settings.sentinel_master_auth {
                builder = builder.master_auth(user.as_deref(), password);
            }
            let backend = connect(builder, &settings, "Redis through its sentinels").await?;
            serve(backend, settings, db, hasher, metrics, activity).await
        }
    }
}

/// The latency buckets (seconds) of every `*_seconds` metric: from an in-process backend call
/// (microseconds) through Redis round trips to the longest `backend.timeout_ms`.
const LATENCY_BUCKETS: [f64; 16] = [
    0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1.0, 5.0,
];

/// How often the exporter's histograms are drained into their buckets when nobody scrapes.
const METRICS_UPKEEP: std::time::Duration = std::time::Duration::from_secs(5);

/// The Prometheus recorder, installed once per process: every layer's metrics report to it,
/// and `GET /metrics` renders it. Latencies are histograms (`_bucket`, `_sum`, `_count`: they
/// add up across instances, which the exporter's default summaries do not). `None` (with a
/// warning) when it cannot be installed.
///
/// The rate limiters' outcome counters are also counted into `activity` on their way to the
/// exporter, for the console's health chart.
fn install_metrics(activity: &Arc<Activity>) -> Option<PrometheusHandle> {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
        .map_err(|e| tracing::warn!(error = %e, "metrics disabled"))
        .ok()?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(ActivityRecorder::new(recorder, Arc::clone(activity)))
        .map_err(|e| tracing::warn!(error = %e, "metrics disabled"))
        .ok()?;
    activity.spawn_sampler();
    request_metrics::describe();
    // Installed without the exporter's own listener, so without its upkeep task: recorded
    // samples wait in memory until drained, by a scrape or by this.
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(METRICS_UPKEEP);
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    Some(handle)
}

/// Connects a standalone or cluster builder with the configured prefix and timeout.
async fn connect(
    builder: RedisBackendBuilder,
    settings: &Settings,
    what: &str,
) -> Result<RedisBackend, String> {
    builder
        .prefix(&settings.config.backend.prefix)
        .timeout(settings.backend_timeout)
        .connect()
        .await
        .map_err(|e| format!("connecting to {what}: {e}"))
}

async fn serve<B: Backend>(
    backend: B,
    settings: Settings,
    db: Db,
    hasher: SecretHasher,
    metrics: Option<PrometheusHandle>,
    activity: Arc<Activity>,
) -> Result<(), String> {
    let cfg = |e: ConfigError| e.to_string();
    let api_keys = ApiKeyCache::builder(backend.clone(), db.clone())
        .hasher(hasher)
        .build()
        .map_err(cfg)?;
    let sessions = SessionManagerLayer::builder(backend.clone())
        .cookie(CookieConfig::new().secure(settings.config.server.secure_cookies))
        .build()
        .map_err(cfg)?;
    // Before listening: a NATS that was named but cannot be reached is a startup error, not
    // a server whose job routes fail one by one.
    let jobs = match &settings.nats_url {
        Some(url) => {
            let queue = JobQueue::connect(url, backend.clone()).await?;
            tracing::info!(
                stream = vigil_api::jobs::STREAM,
                "analysis jobs on NATS JetStream"
            );
            Some(queue)
        }
        None => None,
    };
    let state = Arc::new(AppState {
        db,
        backend: backend.clone(),
        api_keys,
        limits: settings.limits.clone(),
        sessions: sessions.admin(),
        metrics,
        jobs,
        activity,
    });
    let app = app::router(state, &settings, sessions).map_err(cfg)?;

    let listener = TcpListener::bind(settings.addr)
        .await
        .map_err(|e| format!("binding {}: {e}", settings.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // On stdout, so scripts and tests can find the port when VIGIL_ADDR ends in :0.
    #[allow(clippy::print_stdout)]
    {
        println!(
            "vigil-api listening on http://{addr} (backend: {})",
            backend.kind()
        );
    }
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|e| e.to_string())?;
    tracing::info!("vigil-api stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM: stop accepting, finish what is in flight.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down");
}
