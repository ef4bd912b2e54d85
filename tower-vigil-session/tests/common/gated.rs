//! [`Gated`]: a store that stops at chosen points of the session operations, so a test can run
//! two flows in an exact interleaving (a login's create between a revoke-all's delete and its
//! index cleanup), and that can be switched to failing every call (a backend down, without a
//! Redis to stop). Everything else is passed straight through.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::Semaphore;
use tower_vigil_core::backend::{BackendInfo, BackendKind, Subscription};
use tower_vigil_core::keys::KeyPrefix;
use tower_vigil_core::script::{Arg, Script};
use tower_vigil_core::{Backend, BackendError, BackendErrorKind, BackendResult};
use tower_vigil_session::__private::{CREATE_SCRIPT, DESTROY_SCRIPT};

/// One stopping point: armed once, it signals `entered` and waits for a `release` permit.
#[derive(Debug)]
pub struct Gate {
    armed: AtomicBool,
    pub entered: Semaphore,
    pub release: Semaphore,
}

impl Default for Gate {
    fn default() -> Self {
        Self {
            armed: AtomicBool::new(false),
            entered: Semaphore::new(0),
            release: Semaphore::new(0),
        }
    }
}

impl Gate {
    pub fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    async fn pass(&self) {
        if self.armed.swap(false, Ordering::SeqCst) {
            self.entered.add_permits(1);
            self.release.acquire().await.expect("open").forget();
        }
    }

    /// Waits until a flow stopped here.
    pub async fn reached(&self) {
        self.entered.acquire().await.expect("open").forget();
    }

    /// Lets the stopped flow go on.
    pub fn open(&self) {
        self.release.add_permits(1);
    }
}

#[derive(Debug, Default)]
pub struct Gates {
    /// Before a session is created.
    pub before_create: Gate,
    /// After a session delete ran (the flow holds its answer).
    pub after_destroy: Gate,
    /// Set: every backend call fails as a backend that is down.
    pub down: AtomicBool,
}

impl Gates {
    fn check(&self) -> BackendResult<()> {
        if self.down.load(Ordering::SeqCst) {
            return Err(BackendError::new(
                BackendErrorKind::Unavailable,
                "the test took the backend down",
            ));
        }
        Ok(())
    }
}

#[derive(Clone, Debug)]
pub struct Gated<S> {
    pub inner: S,
    pub gates: Arc<Gates>,
}

impl<S> Gated<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            gates: Arc::default(),
        }
    }
}

/// Only the trait's required methods: everything else (the KV methods) is provided on `run`,
/// so it passes through the gates too.
impl<S: Backend> Backend for Gated<S> {
    fn kind(&self) -> BackendKind {
        self.inner.kind()
    }
    fn prefix(&self) -> &KeyPrefix {
        self.inner.prefix()
    }
    async fn run<T: Send + 'static>(
        &self,
        script: &Script<T>,
        keys: &[&str],
        args: &[Arg<'_>],
    ) -> BackendResult<T> {
        self.gates.check()?;
        if script.name() == CREATE_SCRIPT {
            self.gates.before_create.pass().await;
        }
        let r = self.inner.run(script, keys, args).await;
        if script.name() == DESTROY_SCRIPT {
            self.gates.after_destroy.pass().await;
        }
        r
    }
    async fn publish(&self, channel: &str, message: Bytes) -> BackendResult<()> {
        self.inner.publish(channel, message).await
    }
    async fn subscribe(&self, channel: &str) -> BackendResult<Subscription> {
        self.inner.subscribe(channel).await
    }
    async fn ping(&self) -> BackendResult<Duration> {
        self.inner.ping().await
    }
    async fn info(&self) -> BackendResult<BackendInfo> {
        self.inner.info().await
    }
}
