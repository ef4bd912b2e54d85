//! [`Gated`]: a store that stops at chosen points of the session operations, so a test can run
//! two flows in an exact interleaving (a login's create between a revoke-all's delete and its
//! index cleanup), and that can be switched to failing every session operation (a backend
//! down, without a Redis to stop). Everything else is passed straight through.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::Semaphore;
use tower_vigil_core::backend::{BackendInfo, BackendKind, Subscription};
use tower_vigil_core::keys::KeyPrefix;
use tower_vigil_core::{Backend, BackendError, BackendErrorKind, BackendResult};
use tower_vigil_session::SessionStore;
use tower_vigil_session::store::{Expiry, StoredSession, WriteOutcome};

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
    /// Set: every session operation fails as a backend that is down.
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

impl<S: SessionStore> SessionStore for Gated<S> {
    async fn load(&self, key: &str, secret: Option<&str>) -> BackendResult<Option<StoredSession>> {
        self.gates.check()?;
        self.inner.load(key, secret).await
    }

    async fn create(
        &self,
        key: &str,
        secret: &str,
        fields: &[(String, Bytes)],
        expiry: Expiry,
    ) -> BackendResult<bool> {
        self.gates.check()?;
        self.gates.before_create.pass().await;
        self.inner.create(key, secret, fields, expiry).await
    }

    async fn write(
        &self,
        key: &str,
        secret: &str,
        set: &[(String, Bytes)],
        delete: &[String],
        expiry: Expiry,
    ) -> BackendResult<WriteOutcome> {
        self.gates.check()?;
        self.inner.write(key, secret, set, delete, expiry).await
    }

    async fn destroy(&self, key: &str, secret: Option<&str>) -> BackendResult<bool> {
        self.gates.check()?;
        let r = self.inner.destroy(key, secret).await;
        self.gates.after_destroy.pass().await;
        r
    }

    async fn index_add(&self, index: &str, member: &str, ttl: Duration) -> BackendResult<u64> {
        self.gates.check()?;
        self.inner.index_add(index, member, ttl).await
    }

    async fn index_remove(&self, index: &str, members: &[String]) -> BackendResult<u64> {
        self.gates.check()?;
        self.inner.index_remove(index, members).await
    }

    async fn index_members(&self, index: &str) -> BackendResult<Vec<String>> {
        self.gates.check()?;
        self.inner.index_members(index).await
    }
}

impl<S: Backend> Backend for Gated<S> {
    fn kind(&self) -> BackendKind {
        self.inner.kind()
    }
    fn prefix(&self) -> &KeyPrefix {
        self.inner.prefix()
    }
    async fn get(&self, key: &str) -> BackendResult<Option<Bytes>> {
        self.inner.get(key).await
    }
    async fn set(&self, key: &str, value: Bytes, ttl: Duration) -> BackendResult<()> {
        self.inner.set(key, value, ttl).await
    }
    async fn set_nx(&self, key: &str, value: Bytes, ttl: Duration) -> BackendResult<bool> {
        self.inner.set_nx(key, value, ttl).await
    }
    async fn get_refresh(&self, key: &str, ttl: Duration) -> BackendResult<Option<Bytes>> {
        self.inner.get_refresh(key, ttl).await
    }
    async fn compare_and_delete(&self, key: &str, expected: &[u8]) -> BackendResult<bool> {
        self.inner.compare_and_delete(key, expected).await
    }
    async fn compare_and_extend(
        &self,
        key: &str,
        expected: &[u8],
        ttl: Duration,
    ) -> BackendResult<bool> {
        self.inner.compare_and_extend(key, expected, ttl).await
    }
    async fn delete(&self, key: &str) -> BackendResult<bool> {
        self.inner.delete(key).await
    }
    async fn expire(&self, key: &str, ttl: Duration) -> BackendResult<bool> {
        self.inner.expire(key, ttl).await
    }
    async fn ttl(&self, key: &str) -> BackendResult<Option<Duration>> {
        self.inner.ttl(key).await
    }
    async fn incr_by(&self, key: &str, delta: i64, ttl: Duration) -> BackendResult<i64> {
        self.inner.incr_by(key, delta, ttl).await
    }
    async fn set_add(&self, key: &str, members: &[Bytes], ttl: Duration) -> BackendResult<u64> {
        self.inner.set_add(key, members, ttl).await
    }
    async fn set_remove(&self, key: &str, members: &[Bytes]) -> BackendResult<u64> {
        self.inner.set_remove(key, members).await
    }
    async fn set_members(&self, key: &str) -> BackendResult<Vec<Bytes>> {
        self.inner.set_members(key).await
    }
    async fn hash_set(
        &self,
        key: &str,
        fields: &[(&str, Bytes)],
        ttl: Duration,
    ) -> BackendResult<()> {
        self.inner.hash_set(key, fields, ttl).await
    }
    async fn hash_get(&self, key: &str, field: &str) -> BackendResult<Option<Bytes>> {
        self.inner.hash_get(key, field).await
    }
    async fn hash_get_all(&self, key: &str) -> BackendResult<Vec<(String, Bytes)>> {
        self.inner.hash_get_all(key).await
    }
    async fn hash_delete(&self, key: &str, fields: &[&str]) -> BackendResult<u64> {
        self.inner.hash_delete(key, fields).await
    }
    async fn publish(&self, channel: &str, message: Bytes) -> BackendResult<()> {
        self.inner.publish(channel, message).await
    }
    async fn subscribe(&self, channel: &str) -> BackendResult<Subscription> {
        self.inner.subscribe(channel).await
    }
    async fn acquire_lease(
        &self,
        key: &str,
        fence_key: &str,
        owner: &[u8],
        ttl: Duration,
    ) -> BackendResult<Option<u64>> {
        self.inner.acquire_lease(key, fence_key, owner, ttl).await
    }
    async fn ping(&self) -> BackendResult<Duration> {
        self.inner.ping().await
    }
    async fn info(&self) -> BackendResult<BackendInfo> {
        self.inner.info().await
    }
}
