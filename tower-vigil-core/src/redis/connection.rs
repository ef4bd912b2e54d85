//! [`Conn`]: one multiplexed connection handle, standalone or cluster, usable wherever redis-rs
//! takes an async connection.

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};

use tokio::time::Instant;

use super::reconnecting::Reconnecting;

/// A cheap-to-clone handle on the backend's connection(s). Both variants multiplex many
/// in-flight calls over their sockets, reconnect by themselves when a socket fails, and are
/// replaced when they fall silent (see [`Reconnecting`]).
#[derive(Clone)]
pub(crate) enum Conn {
    Standalone(Reconnecting<ConnectionManager>),
    Cluster(Reconnecting<ClusterConnection>),
}

impl Conn {
    /// A call got a reply (a value or a server error).
    pub(crate) fn replied(&self) {
        match self {
            Self::Standalone(c) => c.replied(),
            Self::Cluster(c) => c.replied(),
        }
    }

    /// A call started at `started` timed out.
    pub(crate) fn timed_out(&self, started: Instant) {
        match self {
            Self::Standalone(c) => c.timed_out(started),
            Self::Cluster(c) => c.timed_out(started),
        }
    }
}

impl Conn {
    /// Connects a replacement now (the master moved).
    pub(crate) fn reconnect(&self) {
        match self {
            Self::Standalone(c) => c.reconnect(),
            Self::Cluster(c) => c.reconnect(),
        }
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Standalone(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Standalone(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Standalone(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}
