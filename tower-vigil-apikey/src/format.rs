//! Key formats: issuing keys ([`generate_key`]) and rejecting malformed ones before any lookup
//! ([`KeyFormat`]).
//!
//! Issued keys look like `vg_<32 base62 characters>_<6 base62 checksum characters>`: about
//! 190 random bits from the OS CSPRNG, and a checksum (from SHA-256 of the rest) that lets the
//! layer turn away typos and random guesses without touching a cache or the database.
//!
//! ```
//! use tower_vigil_apikey::{KeyFormat, generate_key, verify_format};
//!
//! let key = generate_key("vg").unwrap();
//! assert!(key.starts_with("vg_"));
//! assert!(verify_format(&key, "vg"));
//!
//! let format = KeyFormat::issued("vg").unwrap();
//! assert!(format.accepts(&key));
//! let mut tampered = key.clone().into_bytes();
//! tampered[5] = if tampered[5] == b'a' { b'b' } else { b'a' };
//! assert!(!format.accepts(std::str::from_utf8(&tampered).unwrap()));
//! ```

use sha2::{Digest, Sha256};
use tower_vigil_core::ConfigError;

/// The longest credential accepted, in bytes.
pub const MAX_KEY_LEN: usize = 512;
/// The shortest credential [`KeyFormat::any`] accepts.
pub const MIN_KEY_LEN: usize = 16;

const BODY_LEN: usize = 32;
const CHECKSUM_LEN: usize = 6;
const MAX_PREFIX_LEN: usize = 16;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Which credentials are worth a lookup. A credential that fails the check is rejected with
/// 401 at no cost to the caches or the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum KeyFormat {
    /// Any printable ASCII of 16 to 512 bytes (keys issued elsewhere).
    #[default]
    Any,
    /// Keys from [`generate_key`] with this prefix: the checksum must match. Built with
    /// [`KeyFormat::issued`], which checks the prefix.
    #[non_exhaustive]
    Issued {
        /// The prefix before the first `_`.
        prefix: String,
    },
}

impl KeyFormat {
    /// [`KeyFormat::Any`].
    pub fn any() -> Self {
        Self::Any
    }

    /// [`KeyFormat::Issued`] with `prefix` (1 to 16 lowercase letters or digits).
    pub fn issued(prefix: &str) -> Result<Self, ConfigError> {
        check_prefix(prefix)?;
        Ok(Self::Issued {
            prefix: prefix.to_owned(),
        })
    }

    /// True when `key` has this format.
    pub fn accepts(&self, key: &str) -> bool {
        match self {
            Self::Any => {
                (MIN_KEY_LEN..=MAX_KEY_LEN).contains(&key.len())
                    && key.bytes().all(|b| b.is_ascii_graphic())
            }
            Self::Issued { prefix } => verify_format(key, prefix),
        }
    }
}

fn check_prefix(prefix: &str) -> Result<(), ConfigError> {
    if prefix.is_empty()
        || prefix.len() > MAX_PREFIX_LEN
        || !prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return Err(ConfigError::new(
            "key_prefix",
            format!("must be 1 to {MAX_PREFIX_LEN} lowercase ASCII letters or digits"),
        ));
    }
    Ok(())
}

/// A new key `{prefix}_{32 random base62}_{6 base62 checksum}` (about 190 random bits).
pub fn generate_key(prefix: &str) -> Result<String, ConfigError> {
    check_prefix(prefix)?;
    let mut key = String::with_capacity(prefix.len() + 2 + BODY_LEN + CHECKSUM_LEN);
    key.push_str(prefix);
    key.push('_');
    while key.len() < prefix.len() + 1 + BODY_LEN {
        for b in tower_vigil_core::secret::random_bytes::<48>() {
            // Rejection sampling keeps every character equally likely: 248 = 4 × 62.
            if b < 248 && key.len() < prefix.len() + 1 + BODY_LEN {
                key.push(char::from(BASE62[usize::from(b % 62)]));
            }
        }
    }
    let sum = checksum(&key);
    key.push('_');
    key.push_str(&sum);
    Ok(key)
}

/// True when `key` was made by [`generate_key`] with `prefix` (shape and checksum). Any
/// string is a valid input: the shape is checked on bytes, so a multi-byte character where
/// an ASCII one belongs is a mismatch, never a slice inside a character.
pub fn verify_format(key: &str, prefix: &str) -> bool {
    if prefix.bytes().any(|b| b == b'_') {
        return false;
    }
    let Some(rest) = key
        .as_bytes()
        .strip_prefix(prefix.as_bytes())
        .and_then(|r| r.strip_prefix(b"_"))
    else {
        return false;
    };
    // `body` `_` `sum`, all ASCII: comparing bytes never splits a character.
    let Some((body, [b'_', sum @ ..])) = rest.split_at_checked(BODY_LEN) else {
        return false;
    };
    if sum.len() != CHECKSUM_LEN
        || !body.iter().all(u8::is_ascii_alphanumeric)
        || !sum.iter().all(u8::is_ascii_alphanumeric)
    {
        return false;
    }
    // Everything before `_sum`: the prefix, `_` and the body.
    let signed = &key.as_bytes()[..key.len() - CHECKSUM_LEN - 1];
    tower_vigil_core::secret::constant_time_eq(checksum(signed).as_bytes(), sum)
}

fn checksum(signed: impl AsRef<[u8]>) -> String {
    let digest = Sha256::digest(signed.as_ref());
    digest[..CHECKSUM_LEN]
        .iter()
        .map(|b| char::from(BASE62[usize::from(*b % 62)]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_verify_and_differ() {
        let a = generate_key("vg").unwrap();
        let b = generate_key("vg").unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 2 + 1 + BODY_LEN + 1 + CHECKSUM_LEN);
        assert!(verify_format(&a, "vg"));
        assert!(!verify_format(&a, "vx"));
        assert!(!verify_format(&a[..a.len() - 1], "vg"));
        assert!(!verify_format("vg_short_abcdef", "vg"));
    }

    #[test]
    fn any_flipped_character_is_caught() {
        let key = generate_key("live").unwrap();
        let bytes = key.as_bytes();
        let mut caught = 0;
        for i in 5..bytes.len() {
            if bytes[i] == b'_' {
                continue;
            }
            let mut t = bytes.to_vec();
            t[i] = if t[i] == b'x' { b'y' } else { b'x' };
            caught += usize::from(!verify_format(std::str::from_utf8(&t).unwrap(), "live"));
        }
        // A 6-character base62 checksum misses a change with odds of about 1 in 5.7e10.
        assert_eq!(caught, bytes.len() - 5 - 1);
    }

    #[test]
    fn bad_prefixes_fail_at_build_time() {
        assert!(generate_key("").is_err());
        assert!(generate_key("Vg").is_err());
        assert!(generate_key("v_g").is_err());
        assert!(KeyFormat::issued("x".repeat(17).as_str()).is_err());
    }

    #[test]
    fn any_format_bounds() {
        let f = KeyFormat::any();
        assert!(f.accepts(&"a".repeat(16)));
        assert!(!f.accepts(&"a".repeat(15)));
        assert!(f.accepts(&"a".repeat(512)));
        assert!(!f.accepts(&"a".repeat(513)));
        assert!(!f.accepts("aaaaaaaa aaaaaaaaa"));
    }

    proptest::proptest! {
        #[test]
        fn verify_format_never_panics(s in "\\PC{0,60}") {
            let _ = verify_format(&s, "vg");
            let _ = KeyFormat::any().accepts(&s);
        }
    }
}
