//! Running a [`Script`] on Redis: `EVALSHA` with the keys prefixed, the script loaded on
//! `NOSCRIPT` (after a restart or failover) and the call retried, and the reply turned into a
//! [`Reply`].

use bytes::Bytes;

use super::RedisBackend;
use crate::backend::BackendResult;
use crate::error::BackendError;
use crate::script::{Arg, Reply, Script};

impl RedisBackend {
    /// Runs the Lua of `script` within the backend's timeout and returns its raw reply.
    pub(crate) async fn eval<T>(
        &self,
        script: &Script<T>,
        keys: &[&str],
        args: &[Arg<'_>],
    ) -> BackendResult<Reply> {
        let mut invocation = script.redis_script().prepare_invoke();
        for key in keys {
            invocation.key(self.full_key(key));
        }
        for arg in args {
            match arg {
                Arg::Int(i) => invocation.arg(*i),
                Arg::Bytes(b) => invocation.arg(*b),
                Arg::Shared(b) => invocation.arg(b.as_ref()),
            };
        }
        let mut conn = self.conn.clone();
        let value: redis::Value = self
            .bounded(async move { invocation.invoke_async(&mut conn).await })
            .await?;
        reply(value)
    }
}

/// A RESP value as a [`Reply`], the way Lua values come back from a script.
pub(crate) fn reply(value: redis::Value) -> BackendResult<Reply> {
    use redis::Value as V;
    Ok(match value {
        V::Nil => Reply::Nil,
        V::Int(i) => Reply::Int(i),
        V::BulkString(b) => Reply::Data(Bytes::from(b)),
        V::Array(items) | V::Set(items) => {
            Reply::Array(items.into_iter().map(reply).collect::<BackendResult<_>>()?)
        }
        V::SimpleString(s) => Reply::Status(s),
        V::Okay => Reply::Status("OK".to_owned()),
        V::Boolean(b) => Reply::Int(i64::from(b)),
        V::ServerError(e) => {
            return Err(BackendError::protocol(format!(
                "script failed: {}",
                e.details().unwrap_or("server error")
            )));
        }
        other => {
            return Err(BackendError::protocol(format!(
                "script returned a RESP3 value a Lua script cannot: {other:?}"
            )));
        }
    })
}
