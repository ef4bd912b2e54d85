//! [`RedisBackend`]: Redis and Redis Cluster through redis-rs.
//!
//! Standalone servers are reached over a [`ConnectionManager`](redis::aio::ConnectionManager)
//! (one multiplexed connection that reconnects by itself), clusters over redis-rs
//! `cluster-async`. Every call is bounded by a per-call timeout (default 250 ms) so a dead or
//! slow Redis answers with a [`BackendError`] of kind `Timeout` or
//! `Connection` instead of hanging the request. Once Redis is back, calls succeed again without
//! a restart. A connection that stops answering without closing (a timeout with no reply on it
//! since the call began) is replaced by a new one in the background, so a black-holed socket
//! costs seconds, not the minutes TCP takes to give up.
//!
//! [`Backend::run`](crate::Backend::run) runs a [`Script`](crate::script::Script)'s Lua with
//! `EVALSHA`, loading it on `NOSCRIPT` (after a restart or failover) and retrying the call.
//!
//! ```no_run
//! use std::time::Duration;
//! use bytes::Bytes;
//! use tower_vigil_core::{Backend, RedisBackend};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let redis = RedisBackend::builder("redis://127.0.0.1:6379/0")
//!     .prefix("myapp")
//!     .timeout(Duration::from_millis(100))
//!     .connect()
//!     .await?;
//! redis.set("greeting", Bytes::from_static(b"hello"), Duration::from_secs(60)).await?; // key `myapp:greeting`
//!
//! let cluster = RedisBackend::cluster_builder(["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"])
//!     .connect()
//!     .await?;
//! println!("{:?}", cluster.info().await?);
//! # Ok(())
//! # }
//! ```

mod builder;
mod connection;
mod error;
mod group_commit;
mod info;
mod ops;
mod pubsub;
mod reconnecting;
mod replication;
mod script_call;
mod sentinel;

use std::sync::Arc;
use std::time::Duration;

pub use self::builder::RedisBackendBuilder;
use self::connection::Conn;
pub use self::group_commit::DEFAULT_MAX_BATCH;
pub(crate) use self::group_commit::batch_lua;
pub use self::replication::WaitForReplicas;
use crate::backend::{BackendKind, BackendResult};
use crate::error::BackendError;
use crate::keys::KeyPrefix;

/// The default per-call timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(250);

/// A Redis or Redis Cluster backend. Clones share the connection.
#[derive(Clone)]
pub struct RedisBackend {
    conn: Conn,
    shared: Arc<Shared>,
}

struct Shared {
    prefix: KeyPrefix,
    timeout: Duration,
    /// `Redis`, `RedisCluster` or `RedisSentinel`.
    kind: BackendKind,
    /// Where pub/sub connections go.
    pubsub: PubsubTarget,
    /// `WAIT` after the writes a guarantee rests on, when set.
    wait: Option<WaitForReplicas>,
    /// The connection those writes and their `WAIT` go over (with `wait` only).
    guarded_conn: Option<Conn>,
    /// Batching of concurrent runs of batchable scripts; `None` when turned off.
    group_commit: Option<group_commit::GroupCommit>,
}

/// Where a subscription connects.
pub(crate) enum PubsubTarget {
    /// The server, or each cluster node in turn (classic pub/sub is cluster-wide).
    Nodes(Vec<redis::Client>),
    /// The master the sentinels name at the time of each (re)connection.
    Sentinel(Arc<sentinel::SentinelTarget>),
}

impl PubsubTarget {
    /// A receiver that changes when subscriptions must move (the sentinels switched the
    /// master); `None` where they never do.
    pub(crate) fn moves(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        match self {
            Self::Nodes(_) => None,
            Self::Sentinel(target) => Some(target.switched.subscribe()),
        }
    }

    /// The clients to try, in order, now.
    pub(crate) async fn clients(&self) -> Vec<redis::Client> {
        match self {
            Self::Nodes(clients) => clients.clone(),
            Self::Sentinel(target) => match target.master().await {
                Ok(client) => vec![client],
                Err(e) => {
                    tracing::debug!(error = %e, "no master from the sentinels for pub/sub");
                    Vec::new()
                }
            },
        }
    }
}

impl RedisBackend {
    /// A builder for a standalone server at `url` (`redis://[user:password@]host:port[/db]`,
    /// or `rediss://` with the `tls` feature).
    pub fn builder(url: &str) -> RedisBackendBuilder {
        RedisBackendBuilder::standalone(url)
    }

    /// A builder for a Redis Cluster reachable through any of `urls`.
    pub fn cluster_builder<I, S>(urls: I) -> RedisBackendBuilder
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        RedisBackendBuilder::cluster(urls)
    }

    /// A builder for a master monitored by Redis Sentinel under `master_name`, found through
    /// any of the sentinels at `sentinel_urls`; see [`RedisBackendBuilder::sentinel`].
    pub fn sentinel_builder<I, S>(sentinel_urls: I, master_name: &str) -> RedisBackendBuilder
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        RedisBackendBuilder::sentinel(sentinel_urls, master_name)
    }

    /// Connects to a standalone server at `url` with the default settings.
    pub async fn connect(url: &str) -> Result<Self, BackendError> {
        RedisBackendBuilder::standalone(url).connect().await
    }

    /// The per-call timeout.
    pub fn timeout(&self) -> Duration {
        self.shared.timeout
    }

    /// `Redis`, `RedisCluster` or `RedisSentinel`.
    pub fn backend_kind(&self) -> BackendKind {
        self.shared.kind
    }

    /// Runs one raw command with the backend's timeout. Keys in `cmd` must already carry the
    /// prefix.
    pub(crate) async fn query<T: redis::FromRedisValue>(
        &self,
        cmd: &redis::Cmd,
    ) -> BackendResult<T> {
        let mut conn = self.conn.clone();
        self.bounded(async move { cmd.query_async(&mut conn).await })
            .await
    }

    /// Awaits `fut` for at most the per-call timeout and maps its error.
    pub(crate) async fn bounded<T>(
        &self,
        fut: impl Future<Output = redis::RedisResult<T>>,
    ) -> BackendResult<T> {
        let started = tokio::time::Instant::now();
        let outcome = tokio::time::timeout(self.shared.timeout, fut).await;
        // What the call says about the connection: answering, or maybe silent for good.
        match &outcome {
            Ok(Ok(_)) => self.conn.replied(),
            Ok(Err(e)) if e.is_timeout() => self.conn.timed_out(started),
            // Under Sentinel, a broken connection or a `READONLY` reply means the master may
            // have moved: ask the sentinels again rather than reconnect to the old address.
            Ok(Err(e))
                if self.shared.kind == BackendKind::RedisSentinel
                    && sentinel::needs_new_master(e) =>
            {
                self.conn.reconnect();
            }
            Ok(Err(e)) if !e.is_io_error() => self.conn.replied(),
            Ok(Err(_)) => {}
            Err(_) => self.conn.timed_out(started),
        }
        match outcome {
            Ok(result) => result.map_err(error::map),
            Err(_) => Err(BackendError::timeout(self.shared.timeout)),
        }
    }

    pub(crate) fn full_key(&self, key: &str) -> String {
        self.shared.prefix.apply(key)
    }
}

impl std::fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBackend")
            .field("kind", &self.backend_kind())
            .field("prefix", &self.shared.prefix)
            .field("timeout", &self.shared.timeout)
            .finish_non_exhaustive()
    }
}
