//! [`Failing`]: a backend whose named scripts fail without running, or run and lose their
//! replies, as a dead or partitioned Redis makes them; every other call goes through.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::backend::{BackendInfo, BackendKind, BackendResult, Subscription};
use tower_vigil_core::keys::KeyPrefix;
use tower_vigil_core::script::{Arg, Script};
use tower_vigil_core::{Backend, BackendError, BackendErrorKind};

/// The layer's scripts, by name.
pub const CLAIM: &str = "idempotency.claim";
pub const COMPLETE: &str = "idempotency.complete";

#[derive(Clone, Debug)]
pub struct Failing<B> {
    inner: B,
    /// Scripts refused with a connection error, not run.
    refused: Arc<Mutex<Vec<&'static str>>>,
    /// Scripts run, then answered as timed out.
    lost: Arc<Mutex<Vec<&'static str>>>,
}

impl<B: Backend> Failing<B> {
    /// `inner`, every call going through.
    pub fn new(inner: B) -> Self {
        Self {
            inner,
            refused: Arc::default(),
            lost: Arc::default(),
        }
    }

    /// From now on the script `name` fails with a connection error without running.
    pub fn refuse(self, name: &'static str) -> Self {
        self.refused.lock().unwrap().push(name);
        self
    }

    /// From now on the script `name` runs, then answers as timed out: its reply is lost on
    /// the way back, as a partition does to a call past its timeout.
    pub fn lose_replies(self, name: &'static str) -> Self {
        self.lost.lock().unwrap().push(name);
        self
    }

    /// Every call goes through again.
    pub fn heal(&self) {
        self.refused.lock().unwrap().clear();
        self.lost.lock().unwrap().clear();
    }
}

impl<B: Backend> Backend for Failing<B> {
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
        if self.refused.lock().unwrap().contains(&script.name()) {
            return Err(BackendError::new(BackendErrorKind::Connection, "down"));
        }
        let out = self.inner.run(script, keys, args).await;
        if self.lost.lock().unwrap().contains(&script.name()) {
            return Err(BackendError::timeout(Duration::ZERO));
        }
        out
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
