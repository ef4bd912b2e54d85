//! [`WaitForReplicas`]: the optional `WAIT` after the writes a guarantee rests on.
//!
//! Redis replicates asynchronously: a master acknowledges a write before any replica has it,
//! and if the master dies in between, the replica promoted in its place never saw the write.
//! For a lock that means two holders, for an idempotency claim a second execution. `WAIT
//! numreplicas timeout`, sent on the same connection right after the write, blocks until that
//! many replicas acknowledged every write the connection made so far — or the timeout passed.
//! With [`RedisBackendBuilder::wait_for_replicas`](super::RedisBackendBuilder::wait_for_replicas)
//! set, lease acquisition and extension (the [`Lock`](crate::Lock)) and the idempotency
//! claim and completion only report success once the write is on enough replicas; otherwise
//! they fail with [`Unavailable`](crate::BackendErrorKind::Unavailable).
//!
//! On a cluster the `WAIT` must reach the master that took the write. redis-rs routes a bare
//! `WAIT` to *every* master and returns the minimum, which would wait on masters that saw no
//! write and fail whenever any one of them is down; so it is routed explicitly to the master
//! of the key's slot, over the same multiplexed connection the write used.
//!
//! `WAIT` counts what the *connection* wrote. Should that connection be re-established between
//! the write and the `WAIT` (one round trip apart), the new one has written nothing and `WAIT`
//! vouches for nothing; and `WAIT` is not consensus (see the README, "What a failover can
//! lose"): it narrows the window of loss to those cases.

use std::time::Duration;

use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::{FromRedisValue, cmd};

use super::RedisBackend;
use super::connection::Conn;
use crate::backend::{BackendResult, check_ttl, ttl_millis};
use crate::error::{BackendError, BackendErrorKind, ConfigError};

/// How many replicas must acknowledge a guarded write, and how long to wait for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitForReplicas {
    /// Replicas that must have the write (at least 1).
    pub replicas: u32,
    /// The longest `WAIT` blocks (at least 1 ms, below the per-call timeout).
    pub timeout: Duration,
}

impl WaitForReplicas {
    /// Checks the setting against the backend's per-call `call_timeout`.
    pub(crate) fn check(self, call_timeout: Duration) -> Result<Self, ConfigError> {
        const FIELD: &str = "wait_for_replicas";
        if self.replicas == 0 {
            return Err(ConfigError::new(FIELD, "needs at least one replica"));
        }
        check_ttl(FIELD, self.timeout)?;
        if self.timeout < Duration::from_millis(1) || self.timeout >= call_timeout {
            return Err(ConfigError::new(
                FIELD,
                "the WAIT timeout must be at least 1 ms and below the per-call timeout",
            ));
        }
        Ok(self)
    }
}

impl RedisBackend {
    /// The handle to make the writes a guarantee rests on through, then call
    /// [`ensure_replicated`](Self::ensure_replicated) on: with
    /// [`wait_for_replicas`](super::RedisBackendBuilder::wait_for_replicas) set, it uses a
    /// connection of its own (a `WAIT` holds up every later command on its connection, and
    /// must not delay the backend's other calls); otherwise it is a clone of this backend.
    pub(crate) fn guarded(&self) -> RedisBackend {
        RedisBackend {
            conn: self
                .shared
                .guarded_conn
                .clone()
                .unwrap_or_else(|| self.conn.clone()),
            shared: self.shared.clone(),
        }
    }

    /// The `WAIT` setting, if any.
    pub fn wait_for_replicas(&self) -> Option<WaitForReplicas> {
        self.shared.wait
    }

    /// When the backend waits for replicas: blocks until the configured number of replicas
    /// acknowledged every write this handle's connection to the master of `key`'s slot made
    /// so far (`WAIT`). Call it on the [`guarded`](Self::guarded) handle, right after a write
    /// to `key` (relative to the prefix) made through that handle. Without the setting,
    /// returns at once.
    ///
    /// Fails with [`Unavailable`](BackendErrorKind::Unavailable) when fewer replicas
    /// acknowledged within the `WAIT` timeout: the write is on the master but may not survive
    /// a failover, so the caller must not treat it as durable. Costs one round trip plus the
    /// replication delay; meanwhile later guarded writes on the same connection queue behind
    /// the `WAIT` (Redis serves one connection's commands in order).
    pub(crate) async fn ensure_replicated(&self, key: &str) -> BackendResult<()> {
        let Some(wait) = self.shared.wait else {
            return Ok(());
        };
        let mut wait_cmd = cmd("WAIT");
        wait_cmd.arg(wait.replicas).arg(ttl_millis(wait.timeout));
        let acked: i64 = match &self.conn {
            Conn::Standalone(_) => self.query(&wait_cmd).await?,
            Conn::Cluster(conn) => {
                let mut conn = conn.current();
                let route = Route::with_key(self.full_key(key), SlotAddr::Master);
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route));
                let value = self
                    .bounded(async move { conn.route_command(wait_cmd, routing).await })
                    .await?;
                i64::from_redis_value(value)
                    .map_err(|_| BackendError::protocol("WAIT did not answer an integer"))?
            }
        };
        if acked >= i64::from(wait.replicas) {
            return Ok(());
        }
        Err(BackendError::new(
            BackendErrorKind::Unavailable,
            format!(
                "the write reached {acked} of {} replicas within {:?}; it may not survive a failover",
                wait.replicas, wait.timeout
            ),
        ))
    }
}
