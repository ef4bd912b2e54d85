//! [`Value`] and [`Slot`]: what the memory backend stores, and the handle an atomic closure
//! gets on one entry.

use std::any::Any;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

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

impl Value {
    /// Rough bytes of memory this value holds, for `info()`.
    pub(crate) fn approx_size(&self) -> usize {
        match self {
            Self::Bytes(b) => b.len(),
            Self::Int(_) => 8,
            Self::Set(s) => s.iter().map(|m| m.len() + 16).sum(),
            Self::Hash(h) => h.iter().map(|(k, v)| k.len() + v.len() + 32).sum(),
            Self::Any(_) => 64,
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
}

impl Slot {
    /// The current value, if the key exists (expired keys do not).
    pub fn value(&self) -> Option<&Value> {
        self.value.as_ref()
    }

    /// The current value, mutably. Changing it keeps the TTL.
    pub fn value_mut(&mut self) -> Option<&mut Value> {
        self.value.as_mut()
    }

    /// The remaining TTL, if the key exists.
    pub fn ttl(&self) -> Option<Duration> {
        self.value.as_ref()?;
        self.expires_at
            .map(|at| at.saturating_duration_since(self.now))
    }

    /// Stores `value` with a TTL of `ttl` (a zero TTL removes the key, as `PX` would refuse it).
    pub fn set(&mut self, value: Value, ttl: Duration) {
        if ttl.is_zero() {
            self.remove();
            return;
        }
        self.value = Some(value);
        self.expires_at = Some(self.now + ttl);
    }

    /// Replaces the value and keeps the TTL; a new key gets `ttl_if_new`.
    pub fn set_keep_ttl(&mut self, value: Value, ttl_if_new: Duration) {
        if self.value.is_some() {
            self.value = Some(value);
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
            self.expires_at = Some(self.now + ttl);
        }
        true
    }

    /// Removes the key and returns its value.
    pub fn remove(&mut self) -> Option<Value> {
        self.expires_at = None;
        self.value.take()
    }

    /// The typed state stored with `Value::Any`, if the key holds a `T`.
    pub fn downcast_mut<T: Any>(&mut self) -> Option<&mut T> {
        match self.value.as_mut()? {
            Value::Any(v) => v.downcast_mut::<T>(),
            _ => None,
        }
    }
}
