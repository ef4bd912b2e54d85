//! [`SessionStore`] for [`RedisBackend`]: each operation one Lua script on one key, so it runs
//! on Redis Cluster too.

use std::sync::LazyLock;
use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::backend::ttl_millis;
use tower_vigil_core::redis::Script;
use tower_vigil_core::{BackendResult, RedisBackend};

use super::SessionStore;
use super::record::{Expiry, StoredSession};

static LOAD: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("load.lua")));
static CREATE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("create.lua")));
static WRITE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("write.lua")));
static DESTROY: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("destroy.lua")));
static INDEX_ADD: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("index_add.lua")));

type LoadReply = Option<(i64, i64, Vec<Vec<u8>>)>;

impl SessionStore for RedisBackend {
    async fn load(&self, key: &str, secret: Option<&str>) -> BackendResult<Option<StoredSession>> {
        let reply: LoadReply = self
            .script(&LOAD)
            .key(key)
            .arg(secret.unwrap_or(""))
            .invoke()
            .await?;
        reply
            .map(|(now, ttl, flat)| StoredSession::from_reply(now, ttl, flat))
            .transpose()
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
