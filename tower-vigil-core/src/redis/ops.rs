//! [`Backend`] for [`RedisBackend`]: one command or one script per primitive.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use redis::cmd;

use super::{RedisBackend, info, pubsub, scripts};
use crate::backend::{
    Backend, BackendInfo, BackendKind, BackendResult, FENCE_TTL, Subscription, ttl_millis,
};
use crate::keys::KeyPrefix;

fn bytes(v: Option<Vec<u8>>) -> Option<Bytes> {
    v.map(Bytes::from)
}

impl Backend for RedisBackend {
    fn kind(&self) -> BackendKind {
        self.backend_kind()
    }

    fn prefix(&self) -> &KeyPrefix {
        &self.shared.prefix
    }

    async fn get(&self, key: &str) -> BackendResult<Option<Bytes>> {
        self.query(cmd("GET").arg(self.full_key(key)))
            .await
            .map(bytes)
    }

    async fn set(&self, key: &str, value: Bytes, ttl: Duration) -> BackendResult<()> {
        self.query::<()>(
            cmd("SET")
                .arg(self.full_key(key))
                .arg(value.as_ref())
                .arg("PX")
                .arg(ttl_millis(ttl)),
        )
        .await
    }

    async fn set_nx(&self, key: &str, value: Bytes, ttl: Duration) -> BackendResult<bool> {
        let reply: Option<String> = self
            .query(
                cmd("SET")
                    .arg(self.full_key(key))
                    .arg(value.as_ref())
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl_millis(ttl)),
            )
            .await?;
        Ok(reply.is_some())
    }

    async fn get_refresh(&self, key: &str, ttl: Duration) -> BackendResult<Option<Bytes>> {
        self.query(
            cmd("GETEX")
                .arg(self.full_key(key))
                .arg("PX")
                .arg(ttl_millis(ttl)),
        )
        .await
        .map(bytes)
    }

    async fn compare_and_delete(&self, key: &str, expected: &[u8]) -> BackendResult<bool> {
        let n: i64 = self
            .script(&scripts::COMPARE_AND_DELETE)
            .key(key)
            .arg(expected)
            .invoke()
            .await?;
        Ok(n == 1)
    }

    async fn compare_and_extend(
        &self,
        key: &str,
        expected: &[u8],
        ttl: Duration,
    ) -> BackendResult<bool> {
        // A lease extension lost in a failover would let the lease lapse early on the new
        // master while its holder still works: a second holder.
        let guarded = self.guarded();
        let n: i64 = guarded
            .script(&scripts::COMPARE_AND_EXTEND)
            .key(key)
            .arg(expected)
            .arg(ttl_millis(ttl))
            .invoke()
            .await?;
        if n == 1 {
            guarded.ensure_replicated(key).await?;
        }
        Ok(n == 1)
    }

    async fn delete(&self, key: &str) -> BackendResult<bool> {
        let n: i64 = self.query(cmd("DEL").arg(self.full_key(key))).await?;
        Ok(n > 0)
    }

    async fn expire(&self, key: &str, ttl: Duration) -> BackendResult<bool> {
        let n: i64 = self
            .query(cmd("PEXPIRE").arg(self.full_key(key)).arg(ttl_millis(ttl)))
            .await?;
        Ok(n == 1)
    }

    async fn ttl(&self, key: &str) -> BackendResult<Option<Duration>> {
        let ms: i64 = self.query(cmd("PTTL").arg(self.full_key(key))).await?;
        Ok(match ms {
            -2 => None,
            // A key without expiry was not written by tower-vigil; report it as never expiring.
            -1 => Some(Duration::MAX),
            ms => Some(Duration::from_millis(u64::try_from(ms).unwrap_or(0))),
        })
    }

    async fn incr_by(&self, key: &str, delta: i64, ttl: Duration) -> BackendResult<i64> {
        self.script(&scripts::INCR_BY)
            .key(key)
            .arg(delta)
            .arg(ttl_millis(ttl))
            .invoke()
            .await
    }

    async fn set_add(&self, key: &str, members: &[Bytes], ttl: Duration) -> BackendResult<u64> {
        if members.is_empty() {
            return Ok(0);
        }
        let mut call = self.script(&scripts::SET_ADD).key(key).arg(ttl_millis(ttl));
        for m in members {
            call = call.arg(m.as_ref());
        }
        call.invoke().await
    }

    async fn set_remove(&self, key: &str, members: &[Bytes]) -> BackendResult<u64> {
        if members.is_empty() {
            return Ok(0);
        }
        let mut c = cmd("SREM");
        c.arg(self.full_key(key));
        for m in members {
            c.arg(m.as_ref());
        }
        self.query(&c).await
    }

    async fn set_members(&self, key: &str) -> BackendResult<Vec<Bytes>> {
        let members: Vec<Vec<u8>> = self.query(cmd("SMEMBERS").arg(self.full_key(key))).await?;
        Ok(members.into_iter().map(Bytes::from).collect())
    }

    async fn hash_set(
        &self,
        key: &str,
        fields: &[(&str, Bytes)],
        ttl: Duration,
    ) -> BackendResult<()> {
        if fields.is_empty() {
            return Ok(());
        }
        let mut call = self
            .script(&scripts::HASH_SET)
            .key(key)
            .arg(ttl_millis(ttl));
        for (f, v) in fields {
            call = call.arg(*f).arg(v.as_ref());
        }
        call.invoke::<i64>().await.map(drop)
    }

    async fn hash_get(&self, key: &str, field: &str) -> BackendResult<Option<Bytes>> {
        self.query(cmd("HGET").arg(self.full_key(key)).arg(field))
            .await
            .map(bytes)
    }

    async fn hash_get_all(&self, key: &str) -> BackendResult<Vec<(String, Bytes)>> {
        let all: BTreeMap<String, Vec<u8>> =
            self.query(cmd("HGETALL").arg(self.full_key(key))).await?;
        Ok(all.into_iter().map(|(k, v)| (k, Bytes::from(v))).collect())
    }

    async fn hash_delete(&self, key: &str, fields: &[&str]) -> BackendResult<u64> {
        if fields.is_empty() {
            return Ok(0);
        }
        self.query(cmd("HDEL").arg(self.full_key(key)).arg(fields))
            .await
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

    async fn acquire_lease(
        &self,
        key: &str,
        fence_key: &str,
        owner: &[u8],
        ttl: Duration,
    ) -> BackendResult<Option<u64>> {
        let guarded = self.guarded();
        let token: Option<u64> = guarded
            .script(&scripts::ACQUIRE_LEASE)
            .key(key)
            .key(fence_key)
            .arg(owner)
            .arg(ttl_millis(ttl))
            .arg(ttl_millis(FENCE_TTL))
            .invoke()
            .await?;
        if token.is_some()
            && let Err(e) = guarded.ensure_replicated(key).await
        {
            // Not durable: give the lease back rather than hand out a lock a failover could
            // also hand to someone else. Best effort; if this fails too, the lease lapses.
            let _ = self.compare_and_delete(key, owner).await;
            return Err(e);
        }
        Ok(token)
    }

    async fn ping(&self) -> BackendResult<Duration> {
        let start = Instant::now();
        self.query::<String>(&cmd("PING")).await?;
        Ok(start.elapsed())
    }

    async fn info(&self) -> BackendResult<BackendInfo> {
        info::info(self).await
    }
}
