//! The [`Backend`] trait: the atomic primitives every concern crate builds on.
//!
//! Keys and channels are given **relative to the backend's [`KeyPrefix`]**: the backend
//! prepends `{prefix}:` itself, so no caller can write outside its namespace. Every write takes
//! a TTL: nothing a layer stores lives forever.
//!
//! The primitive is [`Backend::run`]: an atomic [`Script`] carrying its Lua source and its
//! Rust twin. Methods return `impl Future + Send` (no boxing on the hot path). Two
//! implementations ship:
//! [`MemoryBackend`](crate::MemoryBackend), the embedded default, and
//! [`RedisBackend`](crate::RedisBackend) for Redis and Redis Cluster; both pass the same
//! conformance suite.
//!
//! ```
//! use std::time::Duration;
//! use bytes::Bytes;
//! use tower_vigil_core::{Backend, MemoryBackend};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_vigil_core::BackendError> {
//! async fn claim(backend: &impl Backend, job: &str) -> Result<bool, tower_vigil_core::BackendError> {
//!     backend.set_nx(&format!("jobs:{job}"), Bytes::from_static(b"worker-1"), Duration::from_secs(30)).await
//! }
//!
//! let backend = MemoryBackend::new();
//! assert!(claim(&backend, "42").await?);
//! assert!(!claim(&backend, "42").await?);
//! # Ok(())
//! # }
//! ```

mod eviction;
mod hash_read;
mod info;
pub(crate) mod kv;
mod subscription;

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;

pub use self::eviction::{EvictionPolicy, NodeMemory};
pub use self::hash_read::HashRead;
pub use self::info::{BackendInfo, BackendKind};
pub use self::subscription::{Subscription, SubscriptionEvent};
use crate::keys::KeyPrefix;
use crate::script::{Arg, Script};

pub use crate::error::BackendResult;

/// A store with the atomic primitives the tower-vigil layers need.
///
/// A backend implements seven methods: [`kind`](Self::kind), [`prefix`](Self::prefix),
/// [`run`](Self::run) (an atomic [`Script`]: every concern's multi-step operation is one),
/// [`publish`](Self::publish) and [`subscribe`](Self::subscribe) (revocations, announcements),
/// [`ping`](Self::ping) and [`info`](Self::info) (health). Everything else is provided on top of
/// `run`: plain values, counters, sets, hashes and the lease a [`Lock`](crate::Lock) takes, each
/// one script. So a third-party backend (Valkey GLIDE, a Sentinel-managed Redis, Dragonfly)
/// implements this trait once and gets all four concerns.
pub trait Backend: Clone + Send + Sync + std::fmt::Debug + 'static {
    /// Which kind of backend this is.
    fn kind(&self) -> BackendKind;

    /// The prefix this backend puts in front of every key and channel.
    fn prefix(&self) -> &KeyPrefix;

    /// Runs `script` atomically over `keys` (relative to the prefix; on Redis Cluster they must
    /// share a hash tag) with `args`: the Lua on Redis (`EVALSHA`, loading it on `NOSCRIPT`),
    /// the Rust twin in memory, with the keys' entries locked.
    fn run<T: Send + 'static>(
        &self,
        script: &Script<T>,
        keys: &[&str],
        args: &[Arg<'_>],
    ) -> impl Future<Output = BackendResult<T>> + Send;

    /// Runs `script` as [`run`](Self::run) does, but on the caller's thread and without
    /// waiting, when this backend can (it keeps its entries in the process, as
    /// [`MemoryBackend`](crate::MemoryBackend) does); `None` when it cannot, and the caller
    /// awaits [`run`](Self::run). A hot path (a rate-limit decision) tries it first, so an
    /// in-process answer costs no future. The default is `None`: a backend with I/O, or one
    /// that wraps another and must see every call, need not implement it. A backend answers
    /// `None` always or never: a caller may stop asking after the first `None`.
    fn run_now<T: Send + 'static>(
        &self,
        script: &Script<T>,
        keys: &[&str],
        args: &[Arg<'_>],
    ) -> Option<BackendResult<T>> {
        let _ = (script, keys, args);
        None
    }

    /// Publishes `message` on `channel` to every subscriber sharing this backend (across
    /// processes for Redis, within the process for memory).
    fn publish(
        &self,
        channel: &str,
        message: Bytes,
    ) -> impl Future<Output = BackendResult<()>> + Send;

    /// Subscribes to `channel`. The subscription reports when it loses its connection (messages
    /// may have been missed) and when it is back.
    fn subscribe(&self, channel: &str) -> impl Future<Output = BackendResult<Subscription>> + Send;

    /// Round-trip time of a no-op call.
    fn ping(&self) -> impl Future<Output = BackendResult<Duration>> + Send;

    /// Used memory and key count, for health checks.
    fn info(&self) -> impl Future<Output = BackendResult<BackendInfo>> + Send;

    /// The value at `key`.
    fn get(&self, key: &str) -> impl Future<Output = BackendResult<Option<Bytes>>> + Send {
        async move { self.run(&kv::GET, &[key], &[]).await }
    }

    /// Sets `key` to `value`, expiring after `ttl`.
    fn set(
        &self,
        key: &str,
        value: Bytes,
        ttl: Duration,
    ) -> impl Future<Output = BackendResult<()>> + Send {
        async move {
            self.run(&kv::SET, &[key], &[Arg::from(&value), ms(ttl)])
                .await
        }
    }

    /// Sets `key` only if it does not exist (`SET NX PX`). True when it was set.
    fn set_nx(
        &self,
        key: &str,
        value: Bytes,
        ttl: Duration,
    ) -> impl Future<Output = BackendResult<bool>> + Send {
        async move {
            self.run(&kv::SET_NX, &[key], &[Arg::from(&value), ms(ttl)])
                .await
        }
    }

    /// The value at `key`, and its TTL reset to `ttl`.
    fn get_refresh(
        &self,
        key: &str,
        ttl: Duration,
    ) -> impl Future<Output = BackendResult<Option<Bytes>>> + Send {
        async move { self.run(&kv::GET_REFRESH, &[key], &[ms(ttl)]).await }
    }

    /// Deletes `key` if its value equals `expected` (an owner token). True when deleted.
    fn compare_and_delete(
        &self,
        key: &str,
        expected: &[u8],
    ) -> impl Future<Output = BackendResult<bool>> + Send {
        async move {
            self.run(&kv::COMPARE_AND_DELETE, &[key], &[Arg::Bytes(expected)])
                .await
        }
    }

    /// Resets the TTL of `key` to `ttl` if its value equals `expected`. True when extended.
    /// With [`wait_for_replicas`](crate::redis::RedisBackendBuilder::wait_for_replicas), an
    /// extension the replicas did not acknowledge is an error.
    fn compare_and_extend(
        &self,
        key: &str,
        expected: &[u8],
        ttl: Duration,
    ) -> impl Future<Output = BackendResult<bool>> + Send {
        async move {
            self.run(
                &kv::COMPARE_AND_EXTEND,
                &[key],
                &[Arg::Bytes(expected), ms(ttl)],
            )
            .await
        }
    }

    /// Deletes `key`. True when it existed.
    fn delete(&self, key: &str) -> impl Future<Output = BackendResult<bool>> + Send {
        async move { self.run(&kv::DELETE, &[key], &[]).await }
    }

    /// Sets the TTL of an existing `key`. True when the key exists.
    fn expire(&self, key: &str, ttl: Duration) -> impl Future<Output = BackendResult<bool>> + Send {
        async move { self.run(&kv::EXPIRE, &[key], &[ms(ttl)]).await }
    }

    /// The remaining TTL of `key`, or `None` when it does not exist.
    fn ttl(&self, key: &str) -> impl Future<Output = BackendResult<Option<Duration>>> + Send {
        async move { self.run(&kv::TTL, &[key], &[]).await }
    }

    /// Adds `delta` to the counter at `key` (created at 0) and returns the new value. A new
    /// counter expires after `ttl`; an existing one keeps its expiry (a fixed window).
    fn incr_by(
        &self,
        key: &str,
        delta: i64,
        ttl: Duration,
    ) -> impl Future<Output = BackendResult<i64>> + Send {
        async move {
            self.run(&kv::INCR_BY, &[key], &[Arg::Int(delta), ms(ttl)])
                .await
        }
    }

    /// Adds `members` to the set at `key` and resets its TTL to `ttl`, so an index set lives as
    /// long as its newest member. Returns how many were new.
    fn set_add(
        &self,
        key: &str,
        members: &[Bytes],
        ttl: Duration,
    ) -> impl Future<Output = BackendResult<u64>> + Send {
        async move {
            if members.is_empty() {
                return Ok(0);
            }
            let mut args = Vec::with_capacity(members.len() + 1);
            args.push(ms(ttl));
            args.extend(members.iter().map(Arg::from));
            self.run(&kv::SET_ADD, &[key], &args).await
        }
    }

    /// Removes `members` from the set at `key`. Returns how many were there.
    fn set_remove(
        &self,
        key: &str,
        members: &[Bytes],
    ) -> impl Future<Output = BackendResult<u64>> + Send {
        async move {
            if members.is_empty() {
                return Ok(0);
            }
            let args: Vec<Arg<'_>> = members.iter().map(Arg::from).collect();
            self.run(&kv::SET_REMOVE, &[key], &args).await
        }
    }

    /// The members of the set at `key` (empty when it does not exist).
    fn set_members(&self, key: &str) -> impl Future<Output = BackendResult<Vec<Bytes>>> + Send {
        async move { self.run(&kv::SET_MEMBERS, &[key], &[]).await }
    }

    /// Sets `fields` of the hash at `key` and resets its TTL to `ttl`; other fields are kept.
    fn hash_set(
        &self,
        key: &str,
        fields: &[(&str, Bytes)],
        ttl: Duration,
    ) -> impl Future<Output = BackendResult<()>> + Send {
        async move {
            if fields.is_empty() {
                return Ok(());
            }
            let mut args = Vec::with_capacity(2 * fields.len() + 1);
            args.push(ms(ttl));
            for (name, value) in fields {
                args.push(Arg::from(*name));
                args.push(Arg::from(value));
            }
            self.run(&kv::HASH_SET, &[key], &args).await
        }
    }

    /// One field of the hash at `key`.
    fn hash_get(
        &self,
        key: &str,
        field: &str,
    ) -> impl Future<Output = BackendResult<Option<Bytes>>> + Send {
        async move { self.run(&kv::HASH_GET, &[key], &[Arg::from(field)]).await }
    }

    /// Every field of the hash at `key`, sorted by name (empty when it does not exist).
    fn hash_get_all(
        &self,
        key: &str,
    ) -> impl Future<Output = BackendResult<Vec<(String, Bytes)>>> + Send {
        async move { self.run(&kv::HASH_GET_ALL, &[key], &[]).await }
    }

    /// Every field of the hash at `key` (sorted by name) and its remaining TTL, read together,
    /// with the time of the read ([`HashRead::read_at_micros`]); `None` when the key does not
    /// exist. A value of another type is an error.
    ///
    /// Provided as one script (`HGETALL`, `PTTL` and `TIME`). [`RedisBackend`](crate::RedisBackend)
    /// overrides it with `HGETALL` and `PTTL` in one pipeline, no script: one round trip
    /// still, and about a microsecond of Redis time instead of the six a script spends
    /// converting the hash into Lua and back. (A wrapper backend that forwards only the
    /// required methods reads through the script; forward this method too to keep an inner
    /// backend's override.)
    fn hash_read(&self, key: &str) -> impl Future<Output = BackendResult<Option<HashRead>>> + Send {
        async move { self.run(&kv::HASH_READ, &[key], &[]).await }
    }

    /// Removes `fields` from the hash at `key`. Returns how many were there.
    fn hash_delete(
        &self,
        key: &str,
        fields: &[&str],
    ) -> impl Future<Output = BackendResult<u64>> + Send {
        async move {
            if fields.is_empty() {
                return Ok(0);
            }
            let args: Vec<Arg<'_>> = fields.iter().map(|f| Arg::from(*f)).collect();
            self.run(&kv::HASH_DELETE, &[key], &args).await
        }
    }

    /// Takes the lease `key` for `owner` if it is free (`SET NX PX`) and, in the same atomic
    /// step, draws the next fencing token from `fence_key` (which must share `key`'s hash tag).
    /// Fencing tokens of one `fence_key` strictly increase, even after the fence key expired:
    /// a new token is `max(previous + 1, server time in µs)`. With
    /// [`wait_for_replicas`](crate::redis::RedisBackendBuilder::wait_for_replicas), a lease the
    /// replicas did not acknowledge is given back and the call fails.
    fn acquire_lease(
        &self,
        key: &str,
        fence_key: &str,
        owner: &[u8],
        ttl: Duration,
    ) -> impl Future<Output = BackendResult<Option<u64>>> + Send {
        async move {
            let args = [Arg::Bytes(owner), ms(ttl), Arg::from(kv::fence_ttl_ms())];
            let taken = self.run(&kv::ACQUIRE_LEASE, &[key, fence_key], &args).await;
            if taken.is_err() {
                // Perhaps taken but not durable (a failed `WAIT`), perhaps timed out after it
                // was taken: give it back rather than leave a lock a failover could also hand
                // to someone else. Owner-checked, so it never frees another holder's lease.
                let _ = self.compare_and_delete(key, owner).await;
            }
            taken
        }
    }
}

/// A TTL as the `PX` argument of the provided methods' scripts.
fn ms(ttl: Duration) -> Arg<'static> {
    Arg::from(ttl_millis(ttl))
}

pub(crate) use crate::ttl::instant_after;
pub use crate::ttl::{FENCE_TTL, MAX_TTL, check_ttl, ttl_millis};
