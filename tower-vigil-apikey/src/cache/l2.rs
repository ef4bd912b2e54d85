//! The shared (L2) cache's atomic operations: [`ApiKeyBackend`], implemented with Lua scripts
//! on Redis and with [`MemoryBackend::atomic`] in memory.
//!
//! Two keys per API key, sharing the hash tag `{hash}` so the scripts run on Redis Cluster:
//! `apikey:{hash}` holds the cached record (JSON, with a version field) and
//! `apikey:{hash}:rev` a revocation generation that every revocation bumps. A fill names the
//! generation it read before asking the key store, and is dropped if it changed. Generations
//! are floored with the server clock (`TIME` on Redis), so they never repeat, even after
//! the generation key expired.
//!
//! ```
//! use std::time::Duration;
//! use bytes::Bytes;
//! use tower_vigil_apikey::ApiKeyBackend;
//! use tower_vigil_core::MemoryBackend;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_vigil_core::BackendError> {
//! let b = MemoryBackend::new();
//! let (rec, rev) = b.read_record("apikey:{h}", "apikey:{h}:rev").await?;
//! assert!(rec.is_none());
//! b.revoke_record("apikey:{h}", "apikey:{h}:rev", Duration::from_secs(600)).await?;
//! // A fill that read the generation before the revocation is refused.
//! let ttl = Duration::from_secs(300);
//! assert!(!b.fill_record("apikey:{h}", "apikey:{h}:rev", rev, Bytes::from_static(b"{}"), ttl).await?);
//! # Ok(())
//! # }
//! ```

use std::future::Future;
use std::sync::LazyLock;
use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::backend::{BackendResult, ttl_millis};
use tower_vigil_core::memory::Value;
use tower_vigil_core::redis::Script;
use tower_vigil_core::{Backend, BackendError, MemoryBackend, RedisBackend};

static READ: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("read.lua")));
static FILL: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("fill.lua")));
static REVOKE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("revoke.lua")));

/// A [`Backend`] that can hold the shared API-key cache. Both keys of a call share a hash tag.
pub trait ApiKeyBackend: Backend {
    /// The record at `record_key` and the generation at `rev_key` (0 when never revoked).
    fn read_record(
        &self,
        record_key: &str,
        rev_key: &str,
    ) -> impl Future<Output = BackendResult<(Option<Bytes>, u64)>> + Send;

    /// Stores `record` for `ttl` if the generation is still `expected_rev`. True when stored.
    fn fill_record(
        &self,
        record_key: &str,
        rev_key: &str,
        expected_rev: u64,
        record: Bytes,
        ttl: Duration,
    ) -> impl Future<Output = BackendResult<bool>> + Send;

    /// Bumps the generation (which then lives `rev_ttl`) and deletes the record. Returns the
    /// new generation: `max(previous + 1, the backend's clock in µs)`, so it is greater than
    /// every generation handed out before, even after the generation key expired.
    fn revoke_record(
        &self,
        record_key: &str,
        rev_key: &str,
        rev_ttl: Duration,
    ) -> impl Future<Output = BackendResult<u64>> + Send;
}

impl ApiKeyBackend for RedisBackend {
    async fn read_record(
        &self,
        record_key: &str,
        rev_key: &str,
    ) -> BackendResult<(Option<Bytes>, u64)> {
        let (record, rev): (Option<Vec<u8>>, u64) = self
            .script(&READ)
            .key(record_key)
            .key(rev_key)
            .invoke()
            .await?;
        Ok((record.map(Bytes::from), rev))
    }

    async fn fill_record(
        &self,
        record_key: &str,
        rev_key: &str,
        expected_rev: u64,
        record: Bytes,
        ttl: Duration,
    ) -> BackendResult<bool> {
        let stored: i64 = self
            .script(&FILL)
            .key(record_key)
            .key(rev_key)
            .arg(expected_rev)
            .arg(record.as_ref())
            .arg(ttl_millis(ttl))
            .invoke()
            .await?;
        Ok(stored == 1)
    }

    async fn revoke_record(
        &self,
        record_key: &str,
        rev_key: &str,
        rev_ttl: Duration,
    ) -> BackendResult<u64> {
        self.script(&REVOKE)
            .key(record_key)
            .key(rev_key)
            .arg(ttl_millis(rev_ttl))
            .invoke()
            .await
    }
}

/// The generation stored in a slot: an `Int`, as [`ApiKeyBackend::revoke_record`] leaves it.
fn generation(value: Option<&Value>) -> BackendResult<u64> {
    match value {
        None => Ok(0),
        Some(Value::Int(n)) => Ok(u64::try_from(*n).unwrap_or(0)),
        Some(other) => Err(BackendError::corrupt(format!(
            "api-key generation has the wrong type: {other:?}"
        ))),
    }
}

impl ApiKeyBackend for MemoryBackend {
    async fn read_record(
        &self,
        record_key: &str,
        rev_key: &str,
    ) -> BackendResult<(Option<Bytes>, u64)> {
        self.atomic(&[record_key, rev_key], |slots| {
            let record = match slots[0].value() {
                None => None,
                Some(Value::Bytes(b)) => Some(b.clone()),
                Some(other) => {
                    return Err(BackendError::corrupt(format!(
                        "api-key record has the wrong type: {other:?}"
                    )));
                }
            };
            Ok((record, generation(slots[1].value())?))
        })
    }

    async fn fill_record(
        &self,
        record_key: &str,
        rev_key: &str,
        expected_rev: u64,
        record: Bytes,
        ttl: Duration,
    ) -> BackendResult<bool> {
        self.atomic(&[record_key, rev_key], |slots| {
            if generation(slots[1].value())? != expected_rev {
                return Ok(false);
            }
            // Redis rounds a TTL to whole milliseconds (at least 1); do the same.
            slots[0].set(Value::Bytes(record), Duration::from_millis(ttl_millis(ttl)));
            Ok(true)
        })
    }

    async fn revoke_record(
        &self,
        record_key: &str,
        rev_key: &str,
        rev_ttl: Duration,
    ) -> BackendResult<u64> {
        self.atomic(&[record_key, rev_key], |slots| {
            // The twin of revoke.lua's `max(previous + 1, TIME in µs)`, on the backend's
            // clock (tokio's, so a paused test clock still sees generations increase).
            let next = generation(slots[1].value())?
                .saturating_add(1)
                .max(self.now_micros());
            let next_i = i64::try_from(next).unwrap_or(i64::MAX);
            slots[1].set(
                Value::Int(next_i),
                Duration::from_millis(ttl_millis(rev_ttl)),
            );
            slots[0].remove();
            Ok(next)
        })
    }
}
