//! [`Reconnecting`]: the connection to one server or one cluster, replaced when it stops
//! answering.
//!
//! redis-rs' `ConnectionManager` and cluster connection reconnect when a socket reports an
//! error, but a connection that silently stops answering (a NAT or firewall that dropped its
//! state, a failover that left the old socket dangling, a partition) reports nothing: every
//! call times out until TCP gives up, many minutes later. So a call that times out with no
//! reply having come on the connection since it started marks the connection as suspect, and
//! a new connection is made in the background (one at a time, bounded by the connect timeout).
//! If it connects, it replaces the old one for every later call; if the server itself is down
//! or stalled, the attempt fails and the next timeout tries again. A server that is merely
//! slow keeps its connection: replies still arrive on it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures_util::future::BoxFuture;
use parking_lot::RwLock;
use redis::aio::ConnectionLike;
use redis::{Cmd, Pipeline, RedisFuture, Value};
use tokio::time::Instant;

/// Makes a new connection.
pub(crate) type Connect<C> =
    Arc<dyn Fn() -> BoxFuture<'static, redis::RedisResult<C>> + Send + Sync>;

/// A cheap-to-clone handle on the current connection.
pub(crate) struct Reconnecting<C> {
    shared: Arc<Shared<C>>,
}

impl<C> Clone for Reconnecting<C> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

struct Shared<C> {
    current: RwLock<C>,
    connect: Connect<C>,
    connect_timeout: Duration,
    /// Set while a replacement is being connected.
    replacing: AtomicBool,
    /// When the last reply arrived, as µs after `epoch`.
    last_reply: AtomicU64,
    epoch: Instant,
}

impl<C: ConnectionLike + Clone + Send + Sync + 'static> Reconnecting<C> {
    /// Connects once with `connect` (within the caller's bound); `connect_timeout` bounds
    /// every replacement.
    pub(crate) async fn connect(
        connect: Connect<C>,
        connect_timeout: Duration,
    ) -> redis::RedisResult<Self> {
        let first = connect().await?;
        Ok(Self {
            shared: Arc::new(Shared {
                current: RwLock::new(first),
                connect,
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
        self.replace("redis connection stopped answering; replaced by a new one");
    }

    /// Connects a replacement now, whatever the last reply (a Sentinel backend whose master
    /// moved: the connection answers, but from the wrong server). One at a time; a call
    /// while one is under way does nothing.
    pub(crate) fn reconnect(&self) {
        self.replace("redis connection moved to the current master");
    }

    /// Connects a replacement in the background (needs a tokio runtime), bounded by the
    /// connect timeout, unless one is under way.
    fn replace(&self, done: &'static str) {
        if self.shared.replacing.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.shared.replacing.store(false, Ordering::Release);
            return;
        };
        let shared = Arc::clone(&self.shared);
        runtime.spawn(async move {
            match tokio::time::timeout(shared.connect_timeout, (shared.connect)()).await {
                Ok(Ok(fresh)) => {
                    tracing::warn!("{done}");
                    *shared.current.write() = fresh;
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "replacing a redis connection failed");
                }
                Err(_) => tracing::warn!("replacing a redis connection timed out"),
            }
            shared.replacing.store(false, Ordering::Release);
        });
    }

    /// The connection in use now (for calls `ConnectionLike` does not cover).
    pub(crate) fn current(&self) -> C {
        self.shared.current.read().clone()
    }
}

impl<C: ConnectionLike + Clone + Send + Sync + 'static> ConnectionLike for Reconnecting<C> {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        let mut conn = self.current();
        Box::pin(async move { conn.req_packed_command(cmd).await })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        let mut conn = self.current();
        Box::pin(async move { conn.req_packed_commands(pipeline, offset, count).await })
    }

    fn get_db(&self) -> i64 {
        self.shared.current.read().get_db()
    }
}
