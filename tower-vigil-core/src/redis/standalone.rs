//! [`Standalone`]: the connection to one server, replaced when it stops answering.
//!
//! redis-rs' `ConnectionManager` reconnects when its socket reports an error, but a connection
//! that silently stops answering (a NAT or firewall that dropped its state, a failover that
//! left the old socket dangling, a partition) reports nothing: every call times out until TCP
//! gives up, many minutes later. So a call that times out with no reply having come on the
//! connection since it started marks the connection as suspect, and a new connection is made
//! in the background (one at a time, bounded by the connect timeout). If it connects, it
//! replaces the old one for every later call; if the server itself is down or stalled, the
//! attempt fails and the next timeout tries again. A server that is merely slow keeps its
//! connection: replies still arrive on it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::RwLock;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, Pipeline, RedisFuture, Value};
use tokio::time::Instant;

/// A cheap-to-clone handle on the current connection to one server.
#[derive(Clone)]
pub(crate) struct Standalone {
    shared: Arc<Shared>,
}

struct Shared {
    current: RwLock<ConnectionManager>,
    client: redis::Client,
    config: ConnectionManagerConfig,
    connect_timeout: Duration,
    /// Set while a replacement is being connected.
    replacing: AtomicBool,
    /// When the last reply arrived, as µs after `epoch`.
    last_reply: AtomicU64,
    epoch: Instant,
}

impl Standalone {
    /// Connects (within `connect_timeout`, enforced by the caller).
    pub(crate) async fn connect(
        client: redis::Client,
        config: ConnectionManagerConfig,
        connect_timeout: Duration,
    ) -> redis::RedisResult<Self> {
        let manager = ConnectionManager::new_with_config(client.clone(), config.clone()).await?;
        Ok(Self {
            shared: Arc::new(Shared {
                current: RwLock::new(manager),
                client,
                config,
                connect_timeout,
                replacing: AtomicBool::new(false),
                last_reply: AtomicU64::new(0),
                epoch: Instant::now(),
            }),
        })
    }

    fn micros_since_epoch(&self, at: Instant) -> u64 {
        u64::try_from(at.duration_since(self.shared.epoch).as_micros()).unwrap_or(u64::MAX)
    }

    /// A reply arrived (success or a server error: either way the connection answers).
    pub(crate) fn replied(&self) {
        let now = self.micros_since_epoch(Instant::now());
        self.shared.last_reply.fetch_max(now, Ordering::Relaxed);
    }

    /// A call started at `started` timed out. Unless a reply came since, the connection is
    /// suspect: connect a replacement in the background (needs a tokio runtime).
    pub(crate) fn timed_out(&self, started: Instant) {
        if self.shared.last_reply.load(Ordering::Relaxed) > self.micros_since_epoch(started) {
            return; // slow, not silent
        }
        if self.shared.replacing.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.shared.replacing.store(false, Ordering::Release);
            return;
        };
        let shared = Arc::clone(&self.shared);
        runtime.spawn(async move {
            let fresh =
                ConnectionManager::new_with_config(shared.client.clone(), shared.config.clone());
            match tokio::time::timeout(shared.connect_timeout, fresh).await {
                Ok(Ok(manager)) => {
                    tracing::warn!("redis connection stopped answering; replaced by a new one");
                    *shared.current.write() = manager;
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "replacing a silent redis connection failed")
                }
                Err(_) => tracing::warn!("replacing a silent redis connection timed out"),
            }
            shared.replacing.store(false, Ordering::Release);
        });
    }

    fn manager(&self) -> ConnectionManager {
        self.shared.current.read().clone()
    }
}

impl ConnectionLike for Standalone {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        let mut manager = self.manager();
        Box::pin(async move { manager.req_packed_command(cmd).await })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        let mut manager = self.manager();
        Box::pin(async move { manager.req_packed_commands(pipeline, offset, count).await })
    }

    fn get_db(&self) -> i64 {
        self.shared.current.read().get_db()
    }
}
