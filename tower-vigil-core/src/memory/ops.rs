//! [`Backend`] for [`MemoryBackend`]: scripts run as their Rust twins under the entries' locks.

use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use super::MemoryBackend;
use crate::backend::{
    Backend, BackendInfo, BackendKind, BackendResult, EvictionPolicy, NodeMemory, Subscription,
};
use crate::keys::KeyPrefix;
use crate::script::{Arg, Args, Script, TwinCall};

impl Backend for MemoryBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Memory
    }

    fn prefix(&self) -> &KeyPrefix {
        self.prefix_ref()
    }

    async fn run<T: Send + 'static>(
        &self,
        script: &Script<T>,
        keys: &[&str],
        args: &[Arg<'_>],
    ) -> BackendResult<T> {
        self.run_twin(script, keys, args)
    }

    fn run_now<T: Send + 'static>(
        &self,
        script: &Script<T>,
        keys: &[&str],
        args: &[Arg<'_>],
    ) -> Option<BackendResult<T>> {
        Some(self.run_twin(script, keys, args))
    }

    async fn publish(&self, channel: &str, message: Bytes) -> BackendResult<()> {
        self.pubsub().publish(channel, message);
        Ok(())
    }

    async fn subscribe(&self, channel: &str) -> BackendResult<Subscription> {
        Ok(self.pubsub().subscribe(channel))
    }

    async fn ping(&self) -> BackendResult<Duration> {
        let start = Instant::now();
        // Touch a shard lock so the figure includes what every call pays.
        self.read("", |_| ());
        Ok(start.elapsed())
    }

    async fn info(&self) -> BackendResult<BackendInfo> {
        // From counters, never a walk: a health probe must not hold every shard lock for
        // O(entries).
        let (entries, bytes) = self.totals();
        // Reported like a Redis node: its byte budget is its `maxmemory`, and at the budget
        // it always evicts (it has no `noeviction` mode), counted in `evicted_keys`.
        let limit = self
            .shards()
            .iter()
            .map(|s| s.read().budget().bytes)
            .sum::<usize>();
        let node = NodeMemory::new(
            "memory",
            bytes as u64,
            limit as u64,
            EvictionPolicy::ConcernFairShare,
        )
        .with_evicted_keys(self.evictions());
        Ok(BackendInfo::new(bytes as u64, entries as u64).with_node(node))
    }
}

impl MemoryBackend {
    /// What [`Backend::run`] and [`Backend::run_now`] do: the script's twin under the keys'
    /// locks, at one reading of the clock.
    #[inline]
    fn run_twin<T>(&self, script: &Script<T>, keys: &[&str], args: &[Arg<'_>]) -> BackendResult<T> {
        script.check_keys(keys)?;
        let now = Instant::now();
        let micros = self.micros_at(now);
        if let (Some(cell), [key]) = (script.cell(), keys) {
            let args = Args::new(args);
            if cell.applies(args)
                && let Some(done) = self.run_cell(cell, key, args, now, micros)
            {
                return done;
            }
        }
        self.atomic_at(now, keys, |slots| {
            let call = TwinCall::new(slots, Args::new(args), micros);
            script.run_twin(&mut call.with_tokens(self.last_token()))
        })
    }
}
