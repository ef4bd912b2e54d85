//! [`SessionStore`] for [`RedisBackend`]: each write one Lua script on one key, each read two
//! plain commands on that key, so everything runs on Redis Cluster too.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tower_vigil_core::backend::ttl_millis;
use tower_vigil_core::redis::Script;
use tower_vigil_core::secret::constant_time_eq;
use tower_vigil_core::{Backend, BackendResult, RedisBackend};

use super::record::{Expiry, StoredSession, WriteOutcome};
use super::{ABSOLUTE_FIELD, INDEX_GRACE, SECRET_FIELD, SessionStore};

static CREATE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("create.lua")));
static WRITE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("write.lua")));
static DESTROY: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("destroy.lua")));
/// The user-index scripts, each after the prelude that converts an index from before the
/// sorted set.
macro_rules! index_script {
    ($file:literal) => {
        LazyLock::new(|| {
            Script::new(concat!(
                include_str!("index_legacy.lua"),
                include_str!($file)
            ))
        })
    };
}
static INDEX_ADD: LazyLock<Script> = index_script!("index_add.lua");
static INDEX_MEMBERS: LazyLock<Script> = index_script!("index_members.lua");
static INDEX_REMOVE: LazyLock<Script> = index_script!("index_remove.lua");

/// The application's clock in ms since the Unix epoch: reads check the absolute expiry against
/// it (writes still take Redis `TIME`, and the key's TTL ends the session on Redis's clock).
fn app_now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// The value of `field` in a flat `HGETALL` reply.
pub(crate) fn field<'a>(flat: &'a [Vec<u8>], field: &str) -> Option<&'a [u8]> {
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
            .arg(expiry.absolute_ms)
            .arg(expiry.not_after_ms);
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
    ) -> BackendResult<WriteOutcome> {
        let mut call = self
            .script(&WRITE)
            .key(key)
            .arg(secret)
            .arg(expiry.idle_ms)
            .arg(expiry.not_after_ms)
            .arg(expiry.reindex_ms)
            .arg(set.len());
        for (k, v) in set {
            call = call.arg(k.as_str()).arg(v.as_ref());
        }
        for k in delete {
            call = call.arg(k.as_str());
        }
        let written: i64 = call.invoke().await?;
        Ok(match written {
            1 => WriteOutcome::Written,
            2 => WriteOutcome::Reindex,
            _ => WriteOutcome::Gone,
        })
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

    async fn index_add(&self, index: &str, member: &str, ttl: Duration) -> BackendResult<u64> {
        let deadline: i64 = self
            .script(&INDEX_ADD)
            .key(index)
            .arg(member)
            .arg(ttl_millis(ttl))
            .arg(ttl_millis(INDEX_GRACE))
            .invoke()
            .await?;
        Ok(u64::try_from(deadline).unwrap_or(0))
    }

    async fn index_remove(&self, index: &str, members: &[String]) -> BackendResult<u64> {
        if members.is_empty() {
            return Ok(0);
        }
        let mut call = self.script(&INDEX_REMOVE).key(index);
        for m in members {
            call = call.arg(m.as_str());
        }
        call.invoke().await
    }

    async fn index_members(&self, index: &str) -> BackendResult<Vec<String>> {
        let members: Vec<Vec<u8>> = self.script(&INDEX_MEMBERS).key(index).invoke().await?;
        Ok(members
            .into_iter()
            .filter_map(|m| String::from_utf8(m).ok())
            .collect())
    }
}
