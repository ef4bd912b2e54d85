//! [`Backend`] for [`RedisBackend`]: scripts by `EVALSHA`, pub/sub, health.

use std::time::{Duration, Instant};

use bytes::Bytes;
use redis::cmd;

use super::{RedisBackend, info, pubsub};
use crate::backend::{Backend, BackendInfo, BackendKind, BackendResult, Subscription};
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
        let reply = via.eval(script, keys, args).await?;
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
}
