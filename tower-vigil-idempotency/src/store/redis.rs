//! [`IdempotencyStore`] on [`RedisBackend`]: one Lua script per operation, each touching the
//! single record key (so it runs on Redis Cluster). With
//! [`wait_for_replicas`](tower_vigil_core::redis::RedisBackendBuilder::wait_for_replicas),
//! a claim, lease extension or completion succeeds only once replicated (`WAIT`).

use std::sync::LazyLock;
use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::backend::Subscription;
use tower_vigil_core::backend::ttl_millis;
use tower_vigil_core::redis::Script;
use tower_vigil_core::{Backend, BackendError, RedisBackend};

use super::keys::ANNOUNCE_CHANNEL;
use super::{Claim, IdempotencyStore};
use crate::fingerprint::Fingerprint;

static CLAIM: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("claim.lua")));
static EXTEND: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("extend.lua")));
static COMPLETE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("complete.lua")));
static RELEASE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("release.lua")));

impl IdempotencyStore for RedisBackend {
    async fn claim(
        &self,
        key: &str,
        fingerprint: &Fingerprint,
        owner: &[u8],
        lease: Duration,
    ) -> Result<Claim, BackendError> {
        let guarded = self.guarded();
        let (code, ttl_ms, record): (i64, i64, Vec<u8>) = guarded
            .script(&CLAIM)
            .key(key)
            .arg(&fingerprint.as_bytes()[..])
            .arg(owner)
            .arg(ttl_millis(lease))
            .invoke()
            .await?;
        match code {
            0 => {
                // A claim a failover could lose lets a retry run the request a second time:
                // with `wait_for_replicas`, only a replicated claim counts.
                if let Err(e) = guarded.ensure_replicated(key).await {
                    let _ = self.release(key, owner).await;
                    return Err(e);
                }
                Ok(Claim::Acquired)
            }
            1 => Ok(Claim::InFlight {
                lease_remaining: Duration::from_millis(u64::try_from(ttl_ms).unwrap_or(0)),
            }),
            2 => Ok(Claim::Completed(Bytes::from(record))),
            3 => Ok(Claim::Mismatch),
            _ => Err(BackendError::corrupt(
                "idempotency key holds a value the layer did not write",
            )),
        }
    }

    async fn extend(&self, key: &str, owner: &[u8], lease: Duration) -> Result<bool, BackendError> {
        let guarded = self.guarded();
        let n: i64 = guarded
            .script(&EXTEND)
            .key(key)
            .arg(owner)
            .arg(ttl_millis(lease))
            .invoke()
            .await?;
        if n == 1 {
            guarded.ensure_replicated(key).await?;
        }
        Ok(n == 1)
    }

    async fn complete(
        &self,
        key: &str,
        owner: &[u8],
        record: Bytes,
        ttl: Duration,
    ) -> Result<bool, BackendError> {
        let guarded = self.guarded();
        let n: i64 = guarded
            .script(&COMPLETE)
            .key(key)
            .arg(owner)
            .arg(record.as_ref())
            .arg(ttl_millis(ttl))
            .invoke()
            .await?;
        // A completed record a failover could lose is a second execution on retry. If the
        // record did not replicate, the caller hears an error; the record stays on the master.
        if n == 1 {
            guarded.ensure_replicated(key).await?;
        }
        Ok(n == 1)
    }

    async fn release(&self, key: &str, owner: &[u8]) -> Result<bool, BackendError> {
        let n: i64 = self.script(&RELEASE).key(key).arg(owner).invoke().await?;
        Ok(n == 1)
    }

    async fn announce(&self, key: &str) -> Result<(), BackendError> {
        self.publish(ANNOUNCE_CHANNEL, Bytes::copy_from_slice(key.as_bytes()))
            .await
    }

    async fn announcements(&self) -> Result<Option<Subscription>, BackendError> {
        self.subscribe(ANNOUNCE_CHANNEL).await.map(Some)
    }
}
