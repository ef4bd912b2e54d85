//! The atomic operations behind the layer, on any [`Backend`]: each one [`Script`] run by
//! [`Backend::run`] (Lua on Redis and Redis Cluster, the Rust twin in memory; both in
//! [`scripts`]), with its record key built in [`keys`].
//!
//! One key holds either an **in-flight marker** (owner token, request fingerprint; its TTL is
//! the lease) or a **completed record** (fingerprint and encoded response; its TTL is the
//! retention). [`claim`] reads and, when the key is free, writes the marker in one atomic
//! step, so of any number of concurrent duplicates exactly one is told [`Claim::Acquired`].
//! Every later write checks the owner token: a holder whose lease lapsed cannot overwrite the
//! next one.
//!
//! With [`wait_for_replicas`](tower_vigil_core::redis::RedisBackendBuilder::wait_for_replicas)
//! a claim, extension or completion succeeds only once replicated (`WAIT`); a claim that did
//! not replicate is given back before its error is returned.
//!
//! [`Script`]: tower_vigil_core::Script

pub(crate) mod keys;
mod scripts;

use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::backend::{Subscription, ttl_millis};
use tower_vigil_core::script::Arg;
use tower_vigil_core::{Backend, BackendErrorKind, BackendResult};

use self::keys::ANNOUNCE_CHANNEL;
use self::scripts::{CLAIM, COMPLETE, EXTEND, PEEK, RELEASE};
use crate::fingerprint::Fingerprint;

/// What [`claim`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key was free: the caller now holds the in-flight marker and runs the request.
    Acquired,
    /// Another request with the same fingerprint holds the key; its lease ends in
    /// `lease_remaining` unless renewed.
    InFlight {
        /// Time left on the holder's lease.
        lease_remaining: Duration,
    },
    /// A request with the same fingerprint completed: its encoded record.
    Completed(Bytes),
    /// The key is held or completed by a request with a different fingerprint.
    Mismatch,
}

/// Atomically: if `key` is free, writes an in-flight marker for `owner` with `fingerprint`
/// expiring after `lease` and answers [`Claim::Acquired`]; otherwise reports what holds it.
pub async fn claim<B: Backend>(
    backend: &B,
    key: &str,
    fingerprint: &Fingerprint,
    owner: &[u8],
    lease: Duration,
) -> BackendResult<Claim> {
    let args = [
        Arg::from(&fingerprint.as_bytes()[..]),
        Arg::from(owner),
        Arg::from(ttl_millis(lease)),
    ];
    let claimed = backend.run(&CLAIM, &[key], &args).await;
    if let Err(e) = &claimed
        && e.kind() == BackendErrorKind::Unavailable
    {
        // The claim ran but did not replicate (`WAIT`): a failover could lose it, so it does
        // not count. Give it back (release checks the owner: only this claim's marker goes).
        let _ = release(backend, key, owner).await;
    }
    claimed
}

/// What `key` holds, without changing it: `None` when free, else
/// [`Claim::InFlight`] or [`Claim::Completed`] (never `Acquired` nor `Mismatch`: no
/// fingerprint is compared).
pub async fn peek<B: Backend>(backend: &B, key: &str) -> BackendResult<Option<Claim>> {
    backend.run(&PEEK, &[key], &[]).await
}

/// Resets the lease of `owner`'s in-flight marker to `lease`. False when `owner` no longer
/// holds the key.
pub async fn extend<B: Backend>(
    backend: &B,
    key: &str,
    owner: &[u8],
    lease: Duration,
) -> BackendResult<bool> {
    let args = [Arg::from(owner), Arg::from(ttl_millis(lease))];
    backend.run(&EXTEND, &[key], &args).await
}

/// Replaces `owner`'s in-flight marker by the completed `record`, kept for `ttl`. False (and
/// nothing written) when `owner` no longer holds the key. A record that did not replicate is
/// an error, though it stays on the master.
pub async fn complete<B: Backend>(
    backend: &B,
    key: &str,
    owner: &[u8],
    record: &Bytes,
    ttl: Duration,
) -> BackendResult<bool> {
    let args = [
        Arg::from(owner),
        Arg::from(record),
        Arg::from(ttl_millis(ttl)),
    ];
    backend.run(&COMPLETE, &[key], &args).await
}

/// Deletes `owner`'s in-flight marker so a retry can run. False when `owner` no longer holds
/// the key (a completed record is never deleted by this).
pub async fn release<B: Backend>(backend: &B, key: &str, owner: &[u8]) -> BackendResult<bool> {
    backend.run(&RELEASE, &[key], &[Arg::from(owner)]).await
}

/// Tells every instance's waiters that `key` left the in-flight state (completed or
/// released), so they look again at once instead of at their next poll.
pub async fn announce<B: Backend>(backend: &B, key: &str) -> BackendResult<()> {
    backend
        .publish(ANNOUNCE_CHANNEL, Bytes::copy_from_slice(key.as_bytes()))
        .await
}

/// A subscription to [`announce`]ments (each message is a key).
pub async fn announcements<B: Backend>(backend: &B) -> BackendResult<Subscription> {
    backend.subscribe(ANNOUNCE_CHANNEL).await
}
