//! [`Faulty`]: a Redis backend that a layer's fault suite can stall, heal and (standalone) cut,
//! with the bounds those suites assert.
//!
//! Standalone, the backend talks to the shared server through its own [`FaultProxy`] (so a
//! stall touches only this test); on a cluster, the test gets its own 3-master cluster and a
//! stall is [`RedisCluster::freeze`] (every node `SIGSTOP`ped: connections stay open, nothing
//! answers), because nodes announce their real ports and a per-node proxy would be bypassed;
//! a cut is `CLIENT KILL` on every node.
//!
//! ```no_run
//! # async fn t() {
//! use tower_vigil_core::Backend;
//! use tower_vigil_tests::faults::{self, Faulty};
//!
//! let (mut redis, backend) = Faulty::standalone().await;
//! redis.stall();
//! // ... every answer within faults::DEADLINE ...
//! redis.heal();
//! let took = faults::recovery("a call succeeds", async || backend.ping().await.is_ok()).await;
//! # }
//! ```

use std::time::{Duration, Instant};

use tower_vigil_core::{Backend, RedisBackend};

use crate::fault_proxy::{FaultProxy, NewConnections};
use crate::{RedisCluster, fixtures};

/// The per-call timeout of fault-suite backends.
pub const TIMEOUT: Duration = Duration::from_millis(500);
/// The bound on every answer under a stall: the timeout plus a loaded machine's slack. A hang
/// check, not a speed claim.
pub const DEADLINE: Duration = Duration::from_millis(1500);
/// "Recovers within a few seconds" after a heal or a cut.
pub const RECOVERY: Duration = Duration::from_secs(5);

/// Redis behind a fault: a proxy to the shared server, or a cluster of the test's own.
#[derive(Debug)]
pub enum Faulty {
    /// The shared standalone server behind this test's proxy.
    Proxy(FaultProxy),
    /// A cluster of this test's own (frozen to stall).
    Cluster(RedisCluster),
}

impl Faulty {
    /// A backend (timeout [`TIMEOUT`], unique prefix) to the shared server through a new proxy.
    pub async fn standalone() -> (Self, RedisBackend) {
        let proxy = FaultProxy::start(fixtures::shared_server().port()).await;
        let backend = configure(RedisBackend::builder(&proxy.url())).await;
        (Self::Proxy(proxy), backend)
    }

    /// A backend (timeout [`TIMEOUT`], unique prefix) on a new 3-master cluster.
    pub async fn cluster() -> (Self, RedisBackend) {
        let cluster = RedisCluster::start();
        let builder = RedisBackend::cluster_builder(cluster.urls());
        (Self::Cluster(cluster), configure(builder).await)
    }

    /// Another backend on the same Redis under `like`'s prefix, past the proxy (a cluster's
    /// freeze and cut reach it too): a second instance, or a publisher the fault spares.
    pub async fn direct(&self, like: &RedisBackend) -> RedisBackend {
        let builder = match self {
            Self::Proxy(_) => RedisBackend::builder(&fixtures::shared_server().url()),
            Self::Cluster(c) => RedisBackend::cluster_builder(c.urls()),
        };
        builder
            .prefix(like.prefix().as_str())
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .connect()
            .await
            .expect("connecting past the fault")
    }

    /// Standalone: the open connections stop answering for good while new ones work
    /// ([`FaultProxy::black_hole`]); true. A cluster has no equivalent here: false.
    pub fn black_hole(&self) -> bool {
        match self {
            Self::Proxy(p) => {
                p.black_hole();
                true
            }
            Self::Cluster(_) => false,
        }
    }

    /// `standalone` or `cluster`, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Proxy(_) => "standalone",
            Self::Cluster(_) => "cluster",
        }
    }

    /// Nothing answers from now on; connections stay open.
    pub fn stall(&mut self) {
        match self {
            Self::Proxy(p) => p.stall(),
            Self::Cluster(c) => c.freeze(),
        }
    }

    /// Everything held is answered, late; then calls pass again.
    pub fn heal(&mut self) {
        match self {
            Self::Proxy(p) => p.heal(),
            Self::Cluster(c) => c.thaw(),
        }
    }

    /// Closes every client connection (new ones are accepted): the proxy's cut, or on a
    /// cluster `CLIENT KILL TYPE normal` and `TYPE pubsub` on every node.
    pub fn cut(&self) {
        match self {
            Self::Proxy(p) => p.cut(NewConnections::Accept),
            Self::Cluster(c) => {
                for node in 0..c.ports().len() {
                    for kind in ["normal", "pubsub"] {
                        // Skips its own connection (SKIPME defaults to yes).
                        let killed = c.command(node, &["CLIENT", "KILL", "TYPE", kind]);
                        assert!(killed.is_some(), "CLIENT KILL on node {node}");
                    }
                }
            }
        }
    }
}

impl Drop for Faulty {
    fn drop(&mut self) {
        // A test that failed while stalled leaves nothing frozen behind it.
        self.heal();
    }
}

async fn configure(builder: tower_vigil_core::redis::RedisBackendBuilder) -> RedisBackend {
    builder
        .prefix(fixtures::unique_prefix())
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .connect()
        .await
        .expect("connecting through the fault")
}

/// Awaits `fut`, asserting it answered within [`DEADLINE`].
///
/// # Panics
/// When it took longer.
pub async fn within_deadline<T>(what: &str, fut: impl Future<Output = T>) -> T {
    let start = Instant::now();
    let out = fut.await;
    let took = start.elapsed();
    assert!(took < DEADLINE, "{what} answered after {took:?}");
    out
}

/// Retries `ok` (20 ms apart) until it returns true and returns how long that took, asserting
/// it is under [`RECOVERY`].
///
/// # Panics
/// When it does not recover within [`RECOVERY`].
pub async fn recovery(what: &str, mut ok: impl AsyncFnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if ok().await {
            let took = start.elapsed();
            eprintln!("{what}: recovered after {took:?}");
            return took;
        }
        assert!(
            start.elapsed() < RECOVERY,
            "{what}: no recovery within {RECOVERY:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
