//! `detection-worker`: see the crate's README. Settings from the environment
//! ([`config`](detection_worker::config)).

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use detection_worker::analyse::Analyse;
use detection_worker::config::{BackendTarget, Settings};
use detection_worker::consume;
use detection_worker::handle::Worker;
use detection_worker::sink::Sink;
use tower::ServiceBuilder;
use tower_vigil_core::{Backend, MemoryBackend, RedisBackend};
use tower_vigil_idempotency::work::{ExactlyOnceLayer, WorkLedger};
use tower_vigil_ratelimit::{Policy, Quota};
use vigil_api::jobs;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("detection-worker: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let settings = Settings::from_env()?;
    match settings.backend.clone() {
        BackendTarget::Memory => {
            tracing::warn!(
                "no REDIS_URL: the ledger and locks are in this process, so run one worker only"
            );
            let backend = MemoryBackend::builder()
                .prefix(&settings.prefix)
                .build()
                .map_err(|e| e.to_string())?;
            serve(backend, settings).await
        }
        BackendTarget::Redis(url) => {
            let backend = RedisBackend::builder(&url)
                .prefix(&settings.prefix)
                .connect()
                .await
                .map_err(|e| format!("connecting to Redis: {e}"))?;
            serve(backend, settings).await
        }
        BackendTarget::Cluster(urls) => {
            let backend = RedisBackend::cluster_builder(&urls)
                .prefix(&settings.prefix)
                .connect()
                .await
                .map_err(|e| format!("connecting to Redis Cluster: {e}"))?;
            serve(backend, settings).await
        }
        BackendTarget::Sentinel { urls, master } => {
            let backend = RedisBackend::sentinel_builder(&urls, &master)
                .prefix(&settings.prefix)
                .connect()
                .await
                .map_err(|e| format!("connecting through the sentinels: {e}"))?;
            serve(backend, settings).await
        }
    }
}

async fn serve<B: Backend>(backend: B, settings: Settings) -> Result<(), String> {
    let sink = Sink::open(Path::new(&settings.db_path))
        .map_err(|e| format!("results database {:?}: {e}", settings.db_path))?;
    let ledger = WorkLedger::builder(backend.clone(), jobs::LEDGER_SCOPE)
        .lease(settings.lease)
        .build()
        .map_err(|e| e.to_string())?;
    let client = async_nats::connect(&settings.nats_url)
        .await
        .map_err(|e| format!("connecting to NATS at {}: {e}", settings.nats_url))?;
    let js = async_nats::jetstream::new(client);
    let consumer = consume::consumer(&js, settings.ack_wait).await?;
    let cap = settings
        .analyses_per_second
        .map(|n| Policy::new("analyser", Quota::per_second(n)))
        .transpose()
        .map_err(|e| e.to_string())?;
    let analyse = Analyse {
        backend,
        sink: sink.clone(),
        name: settings.name.clone(),
        lease: settings.lease,
        cap,
        slow: settings.slow_every.map(|n| (n, settings.slow_by)),
    };
    let worker = Arc::new(Worker {
        service: ServiceBuilder::new()
            .layer(ExactlyOnceLayer::new(ledger))
            .service(analyse),
        sink,
        name: settings.name.clone(),
        lease: settings.lease,
    });
    // On stdout, so scripts and tests know the worker is pulling.
    #[allow(clippy::print_stdout)]
    {
        println!("detection-worker {} ready", settings.name);
    }
    consume::run(consumer, worker, settings.concurrency, shutdown_signal()).await?;
    tracing::info!("detection-worker stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM: stop pulling, finish the jobs in flight.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
