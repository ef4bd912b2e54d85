//! [`Value`] and [`Slot`]: what the memory backend stores, and the handle an atomic closure
//! gets on one entry.

use std::any::Any;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use crate::ttl::instant_after as deadline;

/// A value in the memory backend: the Redis types the [`Backend`](crate::Backend) trait uses, and
/// `Any` for a concern's own state (an algorithm's struct, kept without serialisation).
#[non_exhaustive]
pub enum Value {
    /// A string value.
    Bytes(Bytes),
    /// A counter.
    Int(i64),
    /// A set.
    Set(HashSet<Bytes>),
    /// A hash, fields sorted by name.
    Hash(BTreeMap<String, Bytes>),
    /// A concern's own typed state. Reading it through the generic [`Backend`](crate::Backend)
    /// methods is a type error, as `WRONGTYPE` is in Redis.
    Any(Box<dyn Any + Send + Sync>),
}

/// What one set member costs beside its bytes: its `Bytes` handle and its table slot.
const SET_MEMBER: usize = size_of::<Bytes>() + size_of::<usize>();
/// What one hash field costs beside its name and value: the `String`, the `Bytes` and the
/// B-tree's share of a node.
const HASH_FIELD: usize = size_of::<String>() + size_of::<Bytes>() + size_of::<usize>();

impl Value {
    /// Bytes this value holds beyond the entry's fixed overhead (which counts the `Value`
    /// itself), for the byte budget. O(1) for strings, counters and typed state; O(members)
    /// for sets and hashes, which stay small (index sets, session fields).
    pub(crate) fn heap_size(&self) -> usize {
        match self {
            Self::Bytes(b) => b.len(),
            Self::Int(_) => 0,
            Self::Set(s) => s.iter().map(|m| m.len() + SET_MEMBER).sum(),
            Self::Hash(h) => h.iter().map(|(k, v)| k.len() + v.len() + HASH_FIELD).sum(),
            // The concrete type's own size, read from the vtable: a `VecDeque` counts its
            // header here, and its elements through `Slot::set_sized`.
            Self::Any(v) => size_of_val::<dyn Any + Send + Sync>(&**v),
        }
    }

    /// The Redis type name, for error messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Self::Bytes(_) | Self::Int(_) => "string",
            Self::Set(_) => "set",
            Self::Hash(_) => "hash",
            Self::Any(_) => "custom",
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bytes(b) => f.debug_tuple("Bytes").field(&b.len()).finish(),
            Self::Int(i) => f.debug_tuple("Int").field(i).finish(),
            Self::Set(s) => f.debug_tuple("Set").field(&s.len()).finish(),
            Self::Hash(h) => f.debug_tuple("Hash").field(&h.len()).finish(),
            Self::Any(_) => f.write_str("Any(..)"),
        }
    }
}

/// One entry inside [`MemoryBackend::atomic`](crate::MemoryBackend::atomic): read it, replace
/// it, change its TTL or remove it. Changes apply when the closure returns, atomically with
/// every other slot of the call.
#[derive(Debug)]
pub struct Slot {
    pub(crate) value: Option<Value>,
    pub(crate) expires_at: Option<Instant>,
    pub(crate) now: Instant,
    /// Heap bytes a `Value::Any` owns that the backend cannot see (declared by `set_sized`).
    pub(crate) extra: usize,
    /// False until a method that can change the entry is called: a call that only read (a
    /// denied rate-limit decision) puts the entry back without measuring it again.
    pub(crate) touched: bool,
}

impl Slot {
    pub(crate) fn new(value: Option<Value>, expires_at: Option<Instant>, now: Instant) -> Self {
        Self {
            value,
            expires_at,
            now,
            extra: 0,
            touched: false,
        }
    }
}

impl Slot {
    /// The current value, if the key exists (expired keys do not).
    pub fn value(&self) -> Option<&Value> {
        self.value.as_ref()
    }

    /// The current value, mutably. Changing it keeps the TTL.
    pub fn value_mut(&mut self) -> Option<&mut Value> {
        self.touched = true;
        self.value.as_mut()
    }

    /// The remaining TTL, if the key exists.
    pub fn ttl(&self) -> Option<Duration> {
        self.value.as_ref()?;
        self.expires_at
            .map(|at| at.saturating_duration_since(self.now))
    }

    /// Stores `value` with a TTL of `ttl` (a zero TTL removes the key, as `PX` would refuse it;
    /// a TTL above [`MAX_TTL`](crate::backend::MAX_TTL) is capped to it).
    pub fn set(&mut self, value: Value, ttl: Duration) {
        self.set_sized(value, ttl, 0);
    }

    /// [`set`](Self::set), declaring `heap_bytes` the value owns that the backend cannot see,
    /// so the byte budget counts them: a `Value::Any` holding a `Vec` or `VecDeque` of `n`
    /// elements declares about `n * size_of::<T>()`. Other kinds are measured by the backend
    /// and need not declare anything.
    pub fn set_sized(&mut self, value: Value, ttl: Duration, heap_bytes: usize) {
        if ttl.is_zero() {
            self.remove();
            return;
        }
        self.touched = true;
        self.value = Some(value);
        self.extra = heap_bytes;
        self.expires_at = Some(deadline(self.now, ttl));
    }

    /// Replaces the value and keeps the TTL; a new key gets `ttl_if_new`.
    pub fn set_keep_ttl(&mut self, value: Value, ttl_if_new: Duration) {
        if self.value.is_some() {
            self.touched = true;
            self.value = Some(value);
            self.extra = 0;
        } else {
            self.set(value, ttl_if_new);
        }
    }

    /// Resets the TTL of an existing key. False when the key does not exist.
    pub fn expire(&mut self, ttl: Duration) -> bool {
        if self.value.is_none() {
            return false;
        }
        if ttl.is_zero() {
            self.remove();
        } else {
            self.touched = true;
            self.expires_at = Some(deadline(self.now, ttl));
        }
        true
    }

    /// Removes the key and returns its value.
    pub fn remove(&mut self) -> Option<Value> {
        self.touched = true;
        self.expires_at = None;
        self.extra = 0;
        self.value.take()
    }

    /// The typed state stored with `Value::Any`, if the key holds a `T`.
    pub fn downcast_mut<T: Any>(&mut self) -> Option<&mut T> {
        self.touched = true;
        match self.value.as_mut()? {
            Value::Any(v) => v.downcast_mut::<T>(),
            _ => None,
        }
    }
}
