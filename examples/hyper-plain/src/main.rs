//! The server: `cargo run -p hyper-plain` (add `REDIS_URL=redis://…` to keep the state in
//! Redis). Configuration from the environment, see [`hyper_plain::Config`].
#![forbid(unsafe_code)]

use hyper_plain::{Config, serve};
use tower_vigil_core::{MemoryBackend, RedisBackend};

#[tokio::main]
async fn main() -> Result<(), hyper_plain::Error> {
    let config = Config::from_env()?;
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let shutdown = async {
        // Ctrl-C stops accepting and lets open requests finish.
        let _ = tokio::signal::ctrl_c().await;
    };
    let backend = if config.redis_url.is_some() {
        "redis"
    } else {
        "memory"
    };
    let addr = listener.local_addr()?;
    eprintln!(
        "hyper-plain on http://{addr} ({backend} backend, {} requests/min per IP)\n  \
         try: curl -i -X POST http://{addr}/orders -H 'idempotency-key: \"order-1\"' \
         -d '{{\"item\":\"book\"}}'",
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
