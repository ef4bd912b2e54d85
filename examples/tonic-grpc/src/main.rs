//! The gRPC server: `cargo run -p tonic-grpc` (add `REDIS_URL=redis://…` to share state
//! through Redis). Configuration from the environment, see [`tonic_grpc::Config`].
#![forbid(unsafe_code)]

use tonic_grpc::{Config, DEMO_KEY, READONLY_KEY, serve};
use tower_vigil_core::{MemoryBackend, RedisBackend};

#[tokio::main]
async fn main() -> Result<(), tonic_grpc::Error> {
    let config = Config::from_env()?;
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let shutdown = async {
        // Ctrl-C ends the server after in-flight calls finish.
        let _ = tokio::signal::ctrl_c().await;
    };
    let backend = match &config.redis_url {
        Some(_) => "redis",
        None => "memory",
    };
    eprintln!(
        "vigil.demo.Analyzer on {} ({backend} backend, {} calls/min per key)\n  \
         analyze key:   {DEMO_KEY}\n  read-only key: {READONLY_KEY}\n  \
         try: cargo run -p tonic-grpc --bin client",
        listener.local_addr()?,
        config.per_minute,
    );
    match &config.redis_url {
        Some(url) => {
            serve(
                RedisBackend::connect(url).await?,
                &config,
                listener,
                shutdown,
            )
            .await
        }
        None => serve(MemoryBackend::new(), &config, listener, shutdown).await,
    }
}
