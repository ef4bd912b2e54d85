//! [`Stalling`]: a backend whose lease renewals can be made to hang, as calls to a frozen or
//! partitioned server do until their timeout, and whose lease acquisitions can lose their
//! replies.
//!
//! ```
//! # async fn t() {
//! use std::time::Duration;
//! use tower_vigil_tests::{fixtures, stalling::Stalling};
//!
//! let backend = Stalling::new(fixtures::memory());
//! backend.stall_renewals(Duration::from_secs(3)); // each renewal hangs 3 s, then times out
//! # }
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use tower_vigil_core::backend::{BackendInfo, BackendKind, BackendResult, Subscription};
use tower_vigil_core::keys::KeyPrefix;
use tower_vigil_core::{Backend, BackendError};

/// Wraps a backend; every call goes through, except `compare_and_extend` (a lease renewal)
/// while stalled: it then waits the stall (on tokio's clock) and fails with a timeout; and
/// `acquire_lease` once its replies are lost: it runs, then fails as timed out.
#[derive(Clone, Debug)]
pub struct Stalling<B> {
    inner: B,
    stall: Arc<Mutex<Option<Duration>>>,
    lose_lease_replies: Arc<AtomicBool>,
}

impl<B: Backend> Stalling<B> {
    /// `inner`, not stalled.
    pub fn new(inner: B) -> Self {
        Self {
            inner,
            stall: Arc::new(Mutex::new(None)),
            lose_lease_replies: Arc::new(AtomicBool::new(false)),
        }
    }

    /// From now on each `acquire_lease` runs on the inner backend but answers as timed out,
    /// as a call does whose reply a partition held past its timeout.
    pub fn lose_lease_replies(&self) {
        self.lose_lease_replies.store(true, Ordering::SeqCst);
    }

    /// From now on each renewal hangs for `timeout`, then fails as timed out.
    pub fn stall_renewals(&self, timeout: Duration) {
        *self.stall.lock() = Some(timeout);
    }
}

impl<B: Backend> Backend for Stalling<B> {
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
        let stall = *self.stall.lock();
        match stall {
            Some(timeout) => {
                tokio::time::sleep(timeout).await;
                Err(BackendError::timeout(timeout))
            }
            None => self.inner.compare_and_extend(key, expected, ttl).await,
        }
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
        let acquired = self.inner.acquire_lease(key, fence_key, owner, ttl).await;
        if self.lose_lease_replies.load(Ordering::SeqCst) {
            return Err(BackendError::timeout(Duration::ZERO));
        }
        acquired
    }
    async fn ping(&self) -> BackendResult<Duration> {
        self.inner.ping().await
    }
    async fn info(&self) -> BackendResult<BackendInfo> {
        self.inner.info().await
    }
}
