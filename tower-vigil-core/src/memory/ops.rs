//! [`Backend`] for [`MemoryBackend`]: each primitive as one locked update.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use super::{MemoryBackend, Value};
use crate::backend::{
    Backend, BackendInfo, BackendKind, BackendResult, EvictionPolicy, FENCE_TTL, NodeMemory,
    Subscription,
};
use crate::error::BackendError;
use crate::keys::KeyPrefix;

fn wrong_type(v: &Value) -> BackendError {
    BackendError::protocol(format!(
        "WRONGTYPE operation against a key holding a {} value",
        v.type_name()
    ))
}

fn bytes_of(v: &Value) -> BackendResult<Bytes> {
    match v {
        Value::Bytes(b) => Ok(b.clone()),
        Value::Int(i) => Ok(Bytes::from(i.to_string())),
        other => Err(wrong_type(other)),
    }
}

fn equals(v: Option<&Value>, expected: &[u8]) -> bool {
    matches!(v, Some(Value::Bytes(b)) if b.as_ref() == expected)
}

impl Backend for MemoryBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Memory
    }

    fn prefix(&self) -> &KeyPrefix {
        self.prefix_ref()
    }

    async fn get(&self, key: &str) -> BackendResult<Option<Bytes>> {
        self.read(key, |v| v.map(|(v, _)| bytes_of(v)).transpose())
    }

    async fn set(&self, key: &str, value: Bytes, ttl: Duration) -> BackendResult<()> {
        self.update(key, |slot| slot.set(Value::Bytes(value), ttl));
        Ok(())
    }

    async fn set_nx(&self, key: &str, value: Bytes, ttl: Duration) -> BackendResult<bool> {
        Ok(self.update(key, |slot| {
            if slot.value().is_some() {
                return false;
            }
            slot.set(Value::Bytes(value), ttl);
            true
        }))
    }

    async fn get_refresh(&self, key: &str, ttl: Duration) -> BackendResult<Option<Bytes>> {
        self.update(key, |slot| {
            let Some(v) = slot.value() else {
                return Ok(None);
            };
            let b = bytes_of(v)?;
            slot.expire(ttl);
            Ok(Some(b))
        })
    }

    async fn compare_and_delete(&self, key: &str, expected: &[u8]) -> BackendResult<bool> {
        Ok(self.update(key, |slot| {
            let hit = equals(slot.value(), expected);
            if hit {
                slot.remove();
            }
            hit
        }))
    }

    async fn compare_and_extend(
        &self,
        key: &str,
        expected: &[u8],
        ttl: Duration,
    ) -> BackendResult<bool> {
        Ok(self.update(key, |slot| {
            equals(slot.value(), expected) && slot.expire(ttl)
        }))
    }

    async fn delete(&self, key: &str) -> BackendResult<bool> {
        Ok(self.update(key, |slot| slot.remove().is_some()))
    }

    async fn expire(&self, key: &str, ttl: Duration) -> BackendResult<bool> {
        Ok(self.update(key, |slot| slot.expire(ttl)))
    }

    async fn ttl(&self, key: &str) -> BackendResult<Option<Duration>> {
        Ok(self.read(key, |v| v.map(|(_, ttl)| ttl)))
    }

    async fn incr_by(&self, key: &str, delta: i64, ttl: Duration) -> BackendResult<i64> {
        self.update(key, |slot| {
            let current = match slot.value() {
                None => None,
                Some(Value::Int(i)) => Some(*i),
                Some(Value::Bytes(b)) => Some(
                    std::str::from_utf8(b)
                        .ok()
                        .and_then(|s| s.parse::<i64>().ok())
                        .ok_or_else(|| {
                            BackendError::protocol("value is not an integer or out of range")
                        })?,
                ),
                Some(other) => return Err(wrong_type(other)),
            };
            let next = current
                .unwrap_or(0)
                .checked_add(delta)
                .ok_or_else(|| BackendError::protocol("increment or decrement would overflow"))?;
            slot.set_keep_ttl(Value::Int(next), ttl);
            Ok(next)
        })
    }

    async fn set_add(&self, key: &str, members: &[Bytes], ttl: Duration) -> BackendResult<u64> {
        self.update(key, |slot| {
            let mut set = match slot.remove() {
                None => HashSet::new(),
                Some(Value::Set(s)) => s,
                Some(other) => {
                    let err = wrong_type(&other);
                    slot.set(other, ttl);
                    return Err(err);
                }
            };
            let added = members.iter().filter(|m| set.insert((*m).clone())).count();
            if !set.is_empty() {
                slot.set(Value::Set(set), ttl);
            }
            Ok(added as u64)
        })
    }

    async fn set_remove(&self, key: &str, members: &[Bytes]) -> BackendResult<u64> {
        self.update(key, |slot| {
            let removed = match slot.value_mut() {
                None => 0,
                Some(Value::Set(s)) => members.iter().filter(|m| s.remove(*m)).count(),
                Some(other) => return Err(wrong_type(other)),
            };
            if matches!(slot.value(), Some(Value::Set(s)) if s.is_empty()) {
                slot.remove();
            }
            Ok(removed as u64)
        })
    }

    async fn set_members(&self, key: &str) -> BackendResult<Vec<Bytes>> {
        self.read(key, |v| match v {
            None => Ok(Vec::new()),
            Some((Value::Set(s), _)) => Ok(s.iter().cloned().collect()),
            Some((other, _)) => Err(wrong_type(other)),
        })
    }

    async fn hash_set(
        &self,
        key: &str,
        fields: &[(&str, Bytes)],
        ttl: Duration,
    ) -> BackendResult<()> {
        self.update(key, |slot| {
            let mut hash = match slot.remove() {
                None => BTreeMap::new(),
                Some(Value::Hash(h)) => h,
                Some(other) => {
                    let err = wrong_type(&other);
                    slot.set(other, ttl);
                    return Err(err);
                }
            };
            for (f, v) in fields {
                hash.insert((*f).to_owned(), v.clone());
            }
            if !hash.is_empty() {
                slot.set(Value::Hash(hash), ttl);
            }
            Ok(())
        })
    }

    async fn hash_get(&self, key: &str, field: &str) -> BackendResult<Option<Bytes>> {
        self.read(key, |v| match v {
            None => Ok(None),
            Some((Value::Hash(h), _)) => Ok(h.get(field).cloned()),
            Some((other, _)) => Err(wrong_type(other)),
        })
    }

    async fn hash_get_all(&self, key: &str) -> BackendResult<Vec<(String, Bytes)>> {
        self.read(key, |v| match v {
            None => Ok(Vec::new()),
            Some((Value::Hash(h), _)) => {
                Ok(h.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            }
            Some((other, _)) => Err(wrong_type(other)),
        })
    }

    async fn hash_delete(&self, key: &str, fields: &[&str]) -> BackendResult<u64> {
        self.update(key, |slot| {
            let removed = match slot.value_mut() {
                None => 0,
                Some(Value::Hash(h)) => fields.iter().filter(|f| h.remove(**f).is_some()).count(),
                Some(other) => return Err(wrong_type(other)),
            };
            if matches!(slot.value(), Some(Value::Hash(h)) if h.is_empty()) {
                slot.remove();
            }
            Ok(removed as u64)
        })
    }

    async fn publish(&self, channel: &str, message: Bytes) -> BackendResult<()> {
        self.pubsub().publish(channel, message);
        Ok(())
    }

    async fn subscribe(&self, channel: &str) -> BackendResult<Subscription> {
        Ok(self.pubsub().subscribe(channel))
    }

    async fn acquire_lease(
        &self,
        key: &str,
        fence_key: &str,
        owner: &[u8],
        ttl: Duration,
    ) -> BackendResult<Option<u64>> {
        let now = self.now_micros();
        Ok(self.atomic(&[key, fence_key], |slots| {
            let [lease, fence] = slots else {
                unreachable!("two keys were named")
            };
            if lease.value().is_some() {
                return None;
            }
            lease.set(Value::Bytes(Bytes::copy_from_slice(owner)), ttl);
            let previous = match fence.value() {
                Some(Value::Int(i)) => u64::try_from(*i).unwrap_or(0),
                _ => 0,
            };
            let token = self.next_fence(previous.saturating_add(1).max(now));
            fence.set(
                Value::Int(i64::try_from(token).unwrap_or(i64::MAX)),
                FENCE_TTL,
            );
            Some(token)
        }))
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
            .map(|s| s.lock().budget().bytes)
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
