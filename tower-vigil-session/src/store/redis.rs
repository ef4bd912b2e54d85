//! [`SessionStore`] for [`RedisBackend`]: each write one Lua script on one key, each read two
//! plain commands on that key, so everything runs on Redis Cluster too.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tower_vigil_core::backend::ttl_millis;
use tower_vigil_core::redis::Script;
use tower_vigil_core::secret::constant_time_eq;
use tower_vigil_core::{Backend, BackendResult, RedisBackend};

use super::record::{Expiry, StoredSession};
use super::{ABSOLUTE_FIELD, SECRET_FIELD, SessionStore};

static CREATE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("create.lua")));
static WRITE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("write.lua")));
static DESTROY: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("destroy.lua")));
static INDEX_ADD: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("index_add.lua")));

/// The application's clock in ms since the Unix epoch: reads check the absolute expiry against
/// it (writes still take Redis `TIME`, and the key's TTL ends the session on Redis's clock).
fn app_now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// The value of `field` in a flat `HGETALL` reply.
fn field<'a>(flat: &'a [Vec<u8>], field: &str) -> Option<&'a [u8]> {
    flat.chunks_exact(2)
        .find(|kv| kv[0] == field.as_bytes())
        .map(|kv| kv[1].as_slice())
}

impl SessionStore for RedisBackend {
    /// `HGETALL` and `PTTL` sent together on the one connection (one round trip, no script:
    /// about a microsecond of Redis time instead of a script's several), the secret and the
    /// absolute expiry checked here. Only a session past its absolute expiry costs a second
    /// call, the delete.
    async fn load(&self, key: &str, secret: Option<&str>) -> BackendResult<Option<StoredSession>> {
        let full = self.prefix().apply(key);
        let mut hgetall = redis::cmd("HGETALL");
        hgetall.arg(&full);
        let mut pttl = redis::cmd("PTTL");
        pttl.arg(&full);
        let (flat, ttl): (Vec<Vec<u8>>, i64) =
            futures_util::future::try_join(self.query(&hgetall), self.query(&pttl)).await?;
        // -2: the key expired (or was deleted) between the two commands.
        if flat.is_empty() || ttl == -2 {
            return Ok(None);
        }
        let now = app_now_ms();
        let abs: i64 = field(&flat, ABSOLUTE_FIELD)
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if abs > 0 && now >= abs {
            self.destroy(key, None).await?;
            return Ok(None);
        }
        if let Some(secret) = secret {
            let stored = field(&flat, SECRET_FIELD).unwrap_or_default();
            if !constant_time_eq(stored, secret.as_bytes()) {
                return Ok(None);
            }
        }
        StoredSession::from_reply(now, ttl, flat).map(Some)
    }

    async fn create(
        &self,
        key: &str,
        secret: &str,
        fields: &[(String, Bytes)],
        expiry: Expiry,
    ) -> BackendResult<bool> {
        let mut call = self
            .script(&CREATE)
            .key(key)
            .arg(secret)
            .arg(expiry.idle_ms)
            .arg(expiry.absolute_ms);
        for (k, v) in fields {
            call = call.arg(k.as_str()).arg(v.as_ref());
        }
        let created: i64 = call.invoke().await?;
        Ok(created == 1)
    }

    async fn write(
        &self,
        key: &str,
        secret: &str,
        set: &[(String, Bytes)],
        delete: &[String],
        expiry: Expiry,
    ) -> BackendResult<bool> {
        let mut call = self
            .script(&WRITE)
            .key(key)
            .arg(secret)
            .arg(expiry.idle_ms)
            .arg(set.len());
        for (k, v) in set {
            call = call.arg(k.as_str()).arg(v.as_ref());
        }
        for k in delete {
            call = call.arg(k.as_str());
        }
        let written: i64 = call.invoke().await?;
        Ok(written == 1)
    }

    async fn destroy(&self, key: &str, secret: Option<&str>) -> BackendResult<bool> {
        let deleted: i64 = self
            .script(&DESTROY)
            .key(key)
            .arg(secret.unwrap_or(""))
            .invoke()
            .await?;
        Ok(deleted == 1)
    }

    async fn index_add(&self, index: &str, member: &str, ttl: Duration) -> BackendResult<()> {
        let _: i64 = self
            .script(&INDEX_ADD)
            .key(index)
            .arg(member)
            .arg(ttl_millis(ttl))
            .invoke()
            .await?;
        Ok(())
    }
}
