//! Key naming: `{prefix}:{concern}:{id}`, cluster hash tags, and escaping of caller-supplied parts.
//!
//! Backends prepend their [`KeyPrefix`] to every key and channel, so concern crates name keys
//! relative to it (`ratelimit:{…}`) and can never write outside the prefix. Keys one script
//! touches together carry the same hash tag ([`hash_tag`]) so they land in one Redis Cluster slot.
//!
//! ```
//! use tower_vigil_core::keys::{KeyPrefix, escape, hash_tag};
//!
//! let prefix = KeyPrefix::new("vigil").unwrap();
//! assert_eq!(prefix.apply("session:abc"), "vigil:session:abc");
//!
//! // A `:` or a brace in a caller-supplied part cannot forge another key or hash tag.
//! assert_eq!(escape("a:b{c}"), "a%3Ab%7Bc%7D");
//! assert_eq!(hash_tag("user:42"), "{user%3A42}");
//! ```

use std::fmt;
use std::sync::Arc;

use crate::error::ConfigError;

/// The longest prefix accepted: keys are sent with every call, so a long prefix costs bandwidth.
pub const MAX_PREFIX_LEN: usize = 64;

/// The validated namespace every key and channel of a backend starts with.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct KeyPrefix(Arc<str>);

impl KeyPrefix {
    /// The default prefix, `vigil`.
    pub const DEFAULT: &'static str = "vigil";

    /// Validates `prefix`: 1 to 64 printable ASCII characters, no whitespace and no `{` or `}`
    /// (a brace would become the cluster hash tag of every key).
    pub fn new(prefix: impl AsRef<str>) -> Result<Self, ConfigError> {
        let p = prefix.as_ref();
        if p.is_empty() || p.len() > MAX_PREFIX_LEN {
            return Err(ConfigError::new(
                "prefix",
                format!("must be 1 to {MAX_PREFIX_LEN} characters long"),
            ));
        }
        if let Some(c) = p
            .chars()
            .find(|c| !c.is_ascii_graphic() || *c == '{' || *c == '}')
        {
            return Err(ConfigError::new(
                "prefix",
                format!("must be printable ASCII without whitespace or braces, found {c:?}"),
            ));
        }
        Ok(Self(p.into()))
    }

    /// The prefix as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `{prefix}:{key}`: the key as it is stored.
    pub fn apply(&self, key: &str) -> String {
        let mut full = String::with_capacity(self.0.len() + 1 + key.len());
        full.push_str(&self.0);
        full.push(':');
        full.push_str(key);
        full
    }

    /// The key relative to the prefix, if `full` starts with it.
    pub fn strip<'a>(&self, full: &'a str) -> Option<&'a str> {
        full.strip_prefix(&*self.0)?.strip_prefix(':')
    }
}

impl Default for KeyPrefix {
    fn default() -> Self {
        Self(Self::DEFAULT.into())
    }
}

impl fmt::Debug for KeyPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for KeyPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Percent-encodes the characters that carry meaning in a key (`%`, `:`, `{`, `}`), whitespace
/// and anything outside printable ASCII, so a caller-supplied part stays one part.
pub fn escape(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    escape_into(&mut out, part, b"%:{}");
    out
}

/// Appends `part` to `out`, percent-encoding whitespace, anything outside printable ASCII, and
/// the `reserved` bytes (which should include `%`, so the encoding stays reversible). Inside
/// a hash tag only `%`, `{` and `}` need reserving; a layer may reserve more for its own
/// layout.
///
/// ```
/// let mut key = String::from("ratelimit:{");
/// tower_vigil_core::keys::escape_into(&mut key, "2001:db8::/64", b"%{}");
/// key.push('}');
/// assert_eq!(key, "ratelimit:{2001:db8::/64}");
/// ```
pub fn escape_into(out: &mut String, part: &str, reserved: &[u8]) {
    let kept = Kept::new(reserved);
    // Nearly every key has nothing to escape: one scan and one copy.
    let Some(first) = part.bytes().position(|b| !kept.keeps(b)) else {
        out.push_str(part);
        return;
    };
    out.reserve(part.len() + 2);
    // Runs of kept bytes go in whole. A kept byte is ASCII, so a run starts and ends on
    // character boundaries.
    let mut start = 0;
    for (i, b) in part.bytes().enumerate().skip(first) {
        if kept.keeps(b) {
            continue;
        }
        out.push_str(part.get(start..i).unwrap_or_default());
        out.push('%');
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
        start = i + 1;
    }
    out.push_str(part.get(start..).unwrap_or_default());
}

/// The bytes [`escape_into`] keeps as they are: printable ASCII but the reserved, as a bit
/// set in two words (one shift and test per byte; `contains` would call memchr per byte, a
/// `u128` shift is several instructions).
struct Kept([u64; 2]);

impl Kept {
    fn new(reserved: &[u8]) -> Self {
        // Printable ASCII: `!` (33) to `~` (126).
        let mut set = [!0u64 << 33, !0u64 >> 1];
        for &r in reserved {
            // A reserved byte outside ASCII is escaped anyway.
            if r.is_ascii() {
                set[usize::from(r >> 6)] &= !(1 << (r & 63));
            }
        }
        Self(set)
    }

    #[inline]
    fn keeps(&self, b: u8) -> bool {
        b < 128 && self.0[usize::from(b >> 6)] & (1 << (b & 63)) != 0
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// `{escaped part}`: a Redis Cluster hash tag. Keys that contain the same tag map to the same
/// slot, so one script may touch them all.
pub fn hash_tag(part: &str) -> String {
    let mut out = String::with_capacity(part.len() + 2);
    out.push('{');
    out.push_str(&escape(part));
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_validation() {
        assert!(KeyPrefix::new("vigil").is_ok());
        assert!(KeyPrefix::new("app-1.prod").is_ok());
        assert!(KeyPrefix::new("").is_err());
        assert!(KeyPrefix::new("a b").is_err());
        assert!(KeyPrefix::new("a{b").is_err());
        assert!(KeyPrefix::new("é").is_err());
        assert!(KeyPrefix::new("x".repeat(65)).is_err());
    }

    #[test]
    fn strip_is_the_inverse_of_apply() {
        let p = KeyPrefix::new("vg").unwrap();
        assert_eq!(p.strip(&p.apply("a:b")), Some("a:b"));
        assert_eq!(p.strip("vgx:a"), None);
    }

    #[test]
    fn escape_keeps_parts_apart() {
        assert_eq!(escape("plain-id_1"), "plain-id_1");
        assert_eq!(escape("%3A"), "%253A");
        assert_eq!(escape("a b\n"), "a%20b%0A");
        assert_ne!(escape("a:b"), escape("a%3Ab"));
        assert_eq!(escape("é"), "%C3%A9");
        assert_eq!(escape("aé:b"), "a%C3%A9%3Ab");
    }

    /// The byte-at-a-time definition the run-copying `escape_into` must match.
    fn escape_reference(part: &str, reserved: &[u8]) -> String {
        let mut out = String::new();
        for b in part.bytes() {
            if b.is_ascii_graphic() && !reserved.contains(&b) {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn escape_into_matches_the_byte_at_a_time_definition(part in "\\PC{0,40}|[ -~é\n{}%:#]{0,40}") {
            for reserved in [&b"%:{}"[..], b"%{}#", b""] {
                let mut out = String::from("x");
                escape_into(&mut out, &part, reserved);
                proptest::prop_assert_eq!(&out[1..], escape_reference(&part, reserved));
            }
        }
    }
}
