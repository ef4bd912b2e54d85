//! [`ScriptCall`]: one invocation of a concern's Lua script.

use redis::{FromRedisValue, Script, ToRedisArgs};

use super::RedisBackend;
use crate::backend::BackendResult;

/// A script call being prepared: add keys (relative to the prefix) and arguments, then
/// [`invoke`](Self::invoke).
///
/// ```no_run
/// use std::sync::LazyLock;
/// use tower_vigil_core::redis::{RedisBackend, Script};
///
/// static GET_OR_ZERO: LazyLock<Script> =
///     LazyLock::new(|| Script::new("return redis.call('GET', KEYS[1]) or '0'"));
///
/// # async fn run(redis: RedisBackend) -> Result<(), tower_vigil_core::BackendError> {
/// let v: String = redis.script(&GET_OR_ZERO).key("counter:{a}").invoke().await?;
/// # Ok(())
/// # }
/// ```
#[must_use]
pub struct ScriptCall<'a> {
    backend: &'a RedisBackend,
    invocation: redis::ScriptInvocation<'a>,
}

impl<'a> ScriptCall<'a> {
    pub(crate) fn new(backend: &'a RedisBackend, script: &'a Script) -> Self {
        Self {
            backend,
            invocation: script.prepare_invoke(),
        }
    }

    /// Adds `KEYS[n]`: `key` with the backend's prefix in front. Keys of one call must share a
    /// hash tag to run on Redis Cluster.
    pub fn key(mut self, key: &str) -> Self {
        self.invocation.key(self.backend.full_key(key));
        self
    }

    /// Adds `ARGV[n]`.
    pub fn arg<T: ToRedisArgs>(mut self, arg: T) -> Self {
        self.invocation.arg(arg);
        self
    }

    /// Runs the script (`EVALSHA`, loading it on `NOSCRIPT`) within the backend's timeout.
    pub async fn invoke<T: FromRedisValue>(self) -> BackendResult<T> {
        let mut conn = self.backend.conn.clone();
        let invocation = self.invocation;
        self.backend
            .bounded(async move { invocation.invoke_async(&mut conn).await })
            .await
    }
}

impl std::fmt::Debug for ScriptCall<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys and arguments may carry secrets' hashes; show neither.
        f.debug_struct("ScriptCall").finish_non_exhaustive()
    }
}
