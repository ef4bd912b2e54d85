//! [`SessionStore`] for [`RedisBackend`]: each operation one Lua script on one key, so it runs
//! on Redis Cluster too.

use std::sync::LazyLock;
use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::backend::ttl_millis;
use tower_vigil_core::redis::Script;
use tower_vigil_core::{BackendResult, RedisBackend};

use super::SessionStore;
use super::record::{Carry, Created, Expiry, StoredSession};

static LOAD: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("load.lua")));
static CREATE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("create.lua")));
static WRITE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("write.lua")));
static INDEX_ADD: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("index_add.lua")));

type LoadReply = Option<(i64, i64, Vec<Vec<u8>>)>;

async fn load_or_take(
    r: &RedisBackend,
    key: &str,
    take: bool,
) -> BackendResult<Option<StoredSession>> {
    let reply: LoadReply = r
        .script(&LOAD)
        .key(key)
        .arg(if take { "1" } else { "0" })
        .invoke()
        .await?;
    reply
        .map(|(now, ttl, flat)| StoredSession::from_reply(now, ttl, flat))
        .transpose()
}

impl SessionStore for RedisBackend {
    async fn load(&self, key: &str) -> BackendResult<Option<StoredSession>> {
        load_or_take(self, key, false).await
    }

    async fn create(
        &self,
        key: &str,
        fields: &[(String, Bytes)],
        carry: Option<Carry>,
        expiry: Expiry,
    ) -> BackendResult<Created> {
        let (created, abs) = match carry {
            Some(c) => (c.created_ms.to_string(), c.absolute_at_ms.to_string()),
            None => (String::new(), String::new()),
        };
        let mut call = self
            .script(&CREATE)
            .key(key)
            .arg(expiry.idle_ms)
            .arg(expiry.absolute_ms)
            .arg(created)
            .arg(abs);
        for (k, v) in fields {
            call = call.arg(k.as_str()).arg(v.as_ref());
        }
        Ok(Created::from_code(call.invoke().await?))
    }

    async fn write(
        &self,
        key: &str,
        set: &[(String, Bytes)],
        delete: &[String],
        expiry: Expiry,
    ) -> BackendResult<bool> {
        let mut call = self
            .script(&WRITE)
            .key(key)
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

    async fn take(&self, key: &str) -> BackendResult<Option<StoredSession>> {
        load_or_take(self, key, true).await
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
