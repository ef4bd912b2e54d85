//! [`HashRead`]: what [`Backend::hash_read`](super::Backend::hash_read) found.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;

/// A hash as [`Backend::hash_read`](super::Backend::hash_read) found it: every field, the
/// key's remaining TTL, and when it was read.
///
/// ```
/// use std::time::Duration;
/// use bytes::Bytes;
/// use tower_vigil_core::backend::HashRead;
///
/// let fields = [("a".to_owned(), Bytes::from_static(b"1"))].into();
/// let read = HashRead::new(fields, Duration::from_secs(5), 0);
/// assert_eq!(read.fields["a"], "1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HashRead {
    /// Every field, by name (sorted, as [`hash_get_all`](super::Backend::hash_get_all) gives
    /// them; a map, as the memory backend holds a hash, so neither side converts it).
    pub fields: BTreeMap<String, Bytes>,
    /// The key's remaining TTL; `Duration::MAX` for a key without expiry (which tower-vigil
    /// never writes), as [`ttl`](super::Backend::ttl) reports it.
    pub ttl: Duration,
    /// When the hash was read, in µs since the Unix epoch, on the clock its reader should
    /// judge timestamps stored in it against: the one scripts see
    /// ([`TwinCall::now_micros`](crate::script::TwinCall::now_micros): the memory backend's
    /// own, pausable clock; Redis `TIME`) for the provided implementation, and this process's
    /// wall clock for [`RedisBackend`](crate::RedisBackend)'s, which runs no script.
    pub read_at_micros: u64,
}

impl HashRead {
    /// A read of `fields` with `ttl` left, at `read_at_micros`: for a backend that overrides
    /// [`hash_read`](super::Backend::hash_read).
    pub fn new(fields: BTreeMap<String, Bytes>, ttl: Duration, read_at_micros: u64) -> Self {
        Self {
            fields,
            ttl,
            read_at_micros,
        }
    }
}
