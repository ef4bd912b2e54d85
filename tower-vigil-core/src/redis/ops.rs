//! [`Backend`] for [`RedisBackend`]: scripts by `EVALSHA`, pub/sub, health, and
//! [`hash_read`](Backend::hash_read) as two plain commands in one round trip.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use redis::cmd;

use super::{RedisBackend, info, pubsub};
use crate::backend::kv::{hash_fields, pttl};
use crate::backend::{Backend, BackendInfo, BackendKind, BackendResult, HashRead, Subscription};
use crate::error::BackendError;
use crate::keys::KeyPrefix;
use crate::script::{Arg, Script};

impl Backend for RedisBackend {
    fn kind(&self) -> BackendKind {
        self.backend_kind()
    }

    fn prefix(&self) -> &KeyPrefix {
        &self.shared.prefix
    }

    async fn run<T: Send + 'static>(
        &self,
        script: &Script<T>,
        keys: &[&str],
        args: &[Arg<'_>],
    ) -> BackendResult<T> {
        script.check_keys(keys)?;
        let replicated = script.is_replicated() && self.shared.wait.is_some();
        // A replicated script goes over the connection its `WAIT` follows on.
        let via = if replicated {
            self.guarded()
        } else {
            self.clone()
        };
        let reply = match &self.shared.group_commit {
            Some(group) if script.is_batchable() && !replicated => {
                self.run_grouped(group, script, keys, args).await?
            }
            _ => via.eval(script, keys, args).await?,
        };
        let out = script.decode(reply)?;
        if replicated
            && script.needs_replicas(&out)
            && let Some(first) = keys.first()
        {
            via.ensure_replicated(first).await?;
        }
        Ok(out)
    }

    async fn publish(&self, channel: &str, message: Bytes) -> BackendResult<()> {
        self.query::<i64>(
            cmd("PUBLISH")
                .arg(self.full_key(channel))
                .arg(message.as_ref()),
        )
        .await
        .map(drop)
    }

    async fn subscribe(&self, channel: &str) -> BackendResult<Subscription> {
        pubsub::subscribe(self, self.full_key(channel)).await
    }

    async fn ping(&self) -> BackendResult<Duration> {
        let start = Instant::now();
        self.query::<String>(&cmd("PING")).await?;
        Ok(start.elapsed())
    }

    async fn info(&self) -> BackendResult<BackendInfo> {
        info::info(self).await
    }

    /// `HGETALL` and `PTTL` in one pipeline on the one connection (one round trip, one
    /// timeout, no script: about a microsecond of Redis time where the provided script's
    /// conversion of the hash into Lua and back costs about six). The read is timed on this
    /// process's wall clock.
    async fn hash_read(&self, key: &str) -> BackendResult<Option<HashRead>> {
        let full = self.full_key(key);
        let mut pipe = redis::pipe();
        pipe.cmd("HGETALL").arg(&full).cmd("PTTL").arg(&full);
        let mut conn = self.conn.clone();
        let (flat, ttl): (redis::Value, i64) = self
            .bounded(async move { pipe.query_async(&mut conn).await })
            .await?;
        let flat = flat_bytes(flat)?;
        // No fields: no such key. No TTL (-2): the key expired or was deleted between the two
        // commands.
        let Some(ttl) = pttl(ttl).filter(|_| !flat.is_empty()) else {
            return Ok(None);
        };
        Ok(Some(HashRead::new(hash_fields(flat)?, ttl, wall_micros())))
    }
}

/// An `HGETALL` reply (an array in RESP2, a map in RESP3) as name, value, name, value…,
/// without copying the values.
fn flat_bytes(value: redis::Value) -> BackendResult<Vec<Bytes>> {
    use redis::Value as V;
    let bytes = |v: V| match v {
        V::BulkString(b) => Ok(Bytes::from(b)),
        V::SimpleString(s) => Ok(Bytes::from(s)),
        // Never the value itself in the message: it may be a secret.
        _ => Err(BackendError::protocol(
            "HGETALL returned an element that is not a string",
        )),
    };
    match value {
        V::Nil => Ok(Vec::new()),
        V::Array(items) => items.into_iter().map(bytes).collect(),
        V::Map(pairs) => {
            let mut flat = Vec::with_capacity(2 * pairs.len());
            for (k, v) in pairs {
                flat.push(bytes(k)?);
                flat.push(bytes(v)?);
            }
            Ok(flat)
        }
        _ => Err(BackendError::protocol(
            "HGETALL returned neither an array nor a map",
        )),
    }
}

/// This process's wall clock, µs since the Unix epoch.
fn wall_micros() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since.as_micros()).unwrap_or(u64::MAX)
}
