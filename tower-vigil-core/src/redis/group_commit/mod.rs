//! Group commit (opt-in): concurrent runs of one script on one hash slot go to Redis as one
//! `EVALSHA`.
//!
//! A script call costs Redis about 5 µs of parsing, dispatch and reply on top of the script's
//! own work (about 1 µs for a rate-limit decision); on a loaded server that overhead, not the
//! network, is the ceiling. So while a call of a [batchable](crate::script::Script::batchable)
//! script is in flight, the next calls of that script on the same hash slot wait in a queue,
//! and when it answers they go together: one `EVALSHA` of the *batch* script (the script's own
//! Lua wrapped as a function, then `batch.lua`, which calls it for each queued call in turn).
//!
//! - **No added latency when idle**: a call that finds nothing in flight goes at once, on the
//!   caller's task, as the plain script.
//! - **Each decision stays exact**: the batch is one atomic script, and each call in it is
//!   decided exactly as it would have been alone, in queue order. A call that fails (an error
//!   reply, a Lua error) fails alone: `batch.lua` catches it, the others still answer.
//! - **Bounded**: a queued call waits at most the backend's timeout in all, like any call; a
//!   batch that fails or times out fails every call in it with that error.
//! - **Cancellation**: a caller that gives up before its batch is sent is left out of it.
//!   The leading call hands the queue on from a drop guard, so a caller dropped mid-flight
//!   never strands the calls queued behind it.
//! - **Cluster**: a batch holds calls on one hash slot only (the keys of one `EVALSHA` must
//!   share a slot), so there is one queue per script and slot.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::RedisBackend;
use super::connection::Conn;
use crate::backend::BackendResult;
use crate::error::BackendError;
use crate::script::{Arg, Reply, Script};

mod send;

/// A good most calls per batch for
/// [`RedisBackendBuilder::group_commit`](crate::redis::RedisBackendBuilder::group_commit).
pub const DEFAULT_MAX_BATCH: usize = 64;

/// Batches in flight at once per queue: one, so that every call arriving meanwhile joins the
/// next batch (more would split the queue into smaller batches for no gain in throughput).
const DEPTH: usize = 1;

/// The Lua of a batch of `lua`'s calls: `lua` as the function `one`, then the loop.
pub(crate) fn batch_lua(lua: &str) -> String {
    format!(
        "local function one(KEYS, ARGV)\n{lua}\nend\n{}",
        include_str!("batch.lua")
    )
}

/// The queues of one backend (shared by its clones).
pub(crate) struct GroupCommit {
    max_batch: usize,
    queues: Mutex<HashMap<(usize, u16), Arc<Queue>>>,
}

/// The calls of one script on one slot.
pub(crate) struct Queue {
    plain: redis::Script,
    batch: redis::Script,
    max_batch: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    in_flight: usize,
    pending: Vec<Pending>,
}

/// A queued call, its keys prefixed and its arguments owned.
pub(crate) struct Pending {
    keys: Vec<String>,
    args: Vec<Vec<u8>>,
    tx: oneshot::Sender<BackendResult<Reply>>,
}

impl GroupCommit {
    pub(crate) fn new(max_batch: usize) -> Self {
        Self {
            max_batch,
            queues: Mutex::new(HashMap::new()),
        }
    }

    /// The queue of `script` on `slot`, made on first use. Queues are never removed: there
    /// are at most one per batchable script and slot (16,384 on a cluster, one standalone).
    fn queue<T>(&self, script: &Script<T>, slot: u16) -> Arc<Queue> {
        // The Lua source's address names the script: scripts live in statics.
        let id = (script.lua().as_ptr() as usize, slot);
        let mut queues = self.queues.lock();
        Arc::clone(queues.entry(id).or_insert_with(|| {
            Arc::new(Queue {
                plain: script.redis_script().clone(),
                batch: script.batch_redis_script().clone(),
                max_batch: self.max_batch,
                state: Mutex::new(State::default()),
            })
        }))
    }
}

impl RedisBackend {
    /// Runs `script` through its queue: at once when nothing is in flight, else in the next
    /// batch.
    pub(crate) async fn run_grouped<T>(
        &self,
        group: &GroupCommit,
        script: &Script<T>,
        keys: &[&str],
        args: &[Arg<'_>],
    ) -> BackendResult<Reply> {
        let slot = match (&self.conn, keys.first()) {
            (Conn::Cluster(_), Some(first)) => hash_slot(&self.full_key(first)),
            _ => 0,
        };
        let queue = group.queue(script, slot);
        let waiting = {
            let mut state = queue.state.lock();
            if state.in_flight < DEPTH {
                state.in_flight += 1;
                None
            } else {
                let (tx, rx) = oneshot::channel();
                state.pending.push(Pending {
                    keys: keys.iter().map(|k| self.full_key(k)).collect(),
                    args: args.iter().map(owned).collect(),
                    tx,
                });
                Some(rx)
            }
        };
        let Some(rx) = waiting else {
            // Leading: the plain script now; the guard hands the queue on, even if this
            // future is dropped before the reply.
            let _lead = Lead {
                queue,
                backend: self.clone(),
            };
            return self.eval(script, keys, args).await;
        };
        let timeout = self.shared.timeout;
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Err(BackendError::new(
                crate::error::BackendErrorKind::Unavailable,
                "the batch this call was queued for was dropped",
            )),
            Err(_) => Err(BackendError::timeout(timeout)),
        }
    }
}

/// A call's argument as the bytes Redis receives (an integer in decimal, as redis-rs sends it).
fn owned(arg: &Arg<'_>) -> Vec<u8> {
    match arg {
        Arg::Int(i) => i.to_string().into_bytes(),
        Arg::Bytes(b) => b.to_vec(),
        Arg::Shared(b) => b.to_vec(),
    }
}

/// Held by the call in flight that found the queue idle: when it ends (answered, failed or
/// dropped), the calls queued meanwhile are flushed by a task, or the queue goes idle.
struct Lead {
    queue: Arc<Queue>,
    backend: RedisBackend,
}

impl Drop for Lead {
    fn drop(&mut self) {
        let queue = Arc::clone(&self.queue);
        {
            let mut state = queue.state.lock();
            if state.pending.is_empty() {
                state.in_flight -= 1;
                return;
            }
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(send::flush(queue, self.backend.clone()));
            }
            Err(_) => {
                // No runtime to flush on (the runtime is shutting down): fail the queued
                // calls rather than strand them.
                let mut state = queue.state.lock();
                state.in_flight -= 1;
                for p in state.pending.drain(..) {
                    let _ = p.tx.send(Err(BackendError::new(
                        crate::error::BackendErrorKind::Unavailable,
                        "no runtime to send the batch on",
                    )));
                }
            }
        }
    }
}

/// The Redis Cluster hash slot of `key`: CRC16 (XMODEM) of its hash tag (the bytes between
/// the first `{` and the next `}`, when not empty) or of the whole key, modulo 16,384.
pub(crate) fn hash_slot(key: &str) -> u16 {
    let bytes = key.as_bytes();
    let tagged = bytes.iter().position(|&b| b == b'{').and_then(|open| {
        let rest = &bytes[open + 1..];
        let close = rest.iter().position(|&b| b == b'}')?;
        (close > 0).then(|| &rest[..close])
    });
    crc16::State::<crc16::XMODEM>::calculate(tagged.unwrap_or(bytes)) % 16_384
}

#[cfg(test)]
mod tests {
    use super::hash_slot;

    #[test]
    fn hash_slots_match_redis() {
        // Values from `CLUSTER KEYSLOT` on Redis 7.
        assert_eq!(hash_slot("foo"), 12182);
        assert_eq!(hash_slot("{user1000}.following"), hash_slot("user1000"));
        assert_eq!(hash_slot("123456789"), 12739);
        // An empty tag is no tag: the whole key is hashed.
        assert_ne!(hash_slot("{}foo"), hash_slot("foo"));
        assert_eq!(hash_slot("foo{{bar}}zap"), hash_slot("{bar"));
        assert_eq!(hash_slot("foo{bar}{zap}"), hash_slot("bar"));
    }
}
