//! Parsing the `Idempotency-Key` request header.
//!
//! The header is a Structured Field string (`Idempotency-Key: "8e03978e-40d5"`); a bare token
//! (`Idempotency-Key: 8e03978e-40d5`) is accepted too, since many clients send one. After
//! unquoting the key must be 1 to 255 printable ASCII characters.
//!
//! ```
//! use http::HeaderMap;
//! use tower_vigil_idempotency::key::{IdempotencyKey, KeyError};
//!
//! let mut headers = HeaderMap::new();
//! headers.insert("idempotency-key", "\"order-42\"".parse().unwrap());
//! let key = IdempotencyKey::from_headers(&headers).unwrap().unwrap();
//! assert_eq!(key.as_str(), "order-42");
//!
//! headers.insert("idempotency-key", "\"\"".parse().unwrap());
//! assert_eq!(IdempotencyKey::from_headers(&headers), Err(KeyError::Empty));
//! ```

use std::fmt;

use http::{HeaderMap, HeaderName};

/// The `Idempotency-Key` header name.
pub static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// The longest key accepted, in characters.
pub const MAX_KEY_LEN: usize = 255;

/// A validated idempotency key as the client sent it (unquoted).
///
/// Its `Debug` output does not show the key: clients sometimes put identifying data in it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

/// Why an `Idempotency-Key` header was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The header appears more than once.
    Duplicated,
    /// The key is empty.
    Empty,
    /// The key is longer than [`MAX_KEY_LEN`].
    TooLong,
    /// The value is not a Structured Field string nor a bare token of printable ASCII.
    Malformed,
}

impl KeyError {
    /// A sentence for the problem details' `detail`.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Duplicated => "the Idempotency-Key header must appear once",
            Self::Empty => "the Idempotency-Key must not be empty",
            Self::TooLong => "the Idempotency-Key must be at most 255 characters",
            Self::Malformed => {
                "the Idempotency-Key must be a quoted string or a token of printable ASCII"
            }
        }
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

impl std::error::Error for KeyError {}

impl IdempotencyKey {
    /// The key in `headers`: `Ok(None)` when absent, an error when present but invalid.
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<Self>, KeyError> {
        let mut values = headers.get_all(&IDEMPOTENCY_KEY).iter();
        let Some(first) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(KeyError::Duplicated);
        }
        Self::parse(first.as_bytes()).map(Some)
    }

    /// Parses one header value.
    pub fn parse(value: &[u8]) -> Result<Self, KeyError> {
        let value = trim_ows(value);
        let key = match value.first() {
            Some(b'"') => parse_sf_string(value)?,
            _ => parse_bare(value)?,
        };
        if key.is_empty() {
            return Err(KeyError::Empty);
        }
        if key.len() > MAX_KEY_LEN {
            return Err(KeyError::TooLong);
        }
        Ok(Self(key))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey(<{} chars>)", self.0.len())
    }
}

fn trim_ows(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

/// RFC 8941 §4.2.5: `"` then printable ASCII with `\"` and `\\` escapes, then `"`. Parameters
/// after the closing quote (`"k";a=1`) are allowed by the grammar and ignored.
fn parse_sf_string(value: &[u8]) -> Result<String, KeyError> {
    let mut out = String::new();
    let mut i = 1;
    loop {
        match value.get(i) {
            None => return Err(KeyError::Malformed),
            Some(b'\\') => match value.get(i + 1) {
                Some(&c @ (b'"' | b'\\')) => {
                    out.push(char::from(c));
                    i += 2;
                }
                _ => return Err(KeyError::Malformed),
            },
            Some(b'"') => break,
            Some(&c) if (0x20..=0x7e).contains(&c) => {
                out.push(char::from(c));
                i += 1;
            }
            Some(_) => return Err(KeyError::Malformed),
        }
        if out.len() > MAX_KEY_LEN {
            return Err(KeyError::TooLong);
        }
    }
    match &value[i + 1..] {
        [] => Ok(out),
        [b';', params @ ..] if params.iter().all(|c| (0x20..=0x7e).contains(c)) => Ok(out),
        _ => Err(KeyError::Malformed),
    }
}

/// A bare value: visible ASCII without quotes, backslashes, commas or semicolons (which would
/// make it a list or a parameterised item).
fn parse_bare(value: &[u8]) -> Result<String, KeyError> {
    if value.len() > MAX_KEY_LEN {
        return Err(KeyError::TooLong);
    }
    if value
        .iter()
        .all(|c| c.is_ascii_graphic() && !matches!(c, b'"' | b'\\' | b',' | b';'))
    {
        Ok(value.iter().map(|&c| char::from(c)).collect())
    } else {
        Err(KeyError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use proptest::prelude::*;

    fn parse(s: &[u8]) -> Result<String, KeyError> {
        IdempotencyKey::parse(s).map(|k| k.0)
    }

    #[test]
    fn accepts_sf_strings_and_bare_tokens() {
        assert_eq!(parse(b"\"abc\"").unwrap(), "abc");
        assert_eq!(parse(b"  \"a b\"  ").unwrap(), "a b");
        assert_eq!(parse(br#""q\"uo\\te""#).unwrap(), "q\"uo\\te");
        assert_eq!(parse(b"\"k\";v=1").unwrap(), "k");
        assert_eq!(parse(b"abc-123:x/y").unwrap(), "abc-123:x/y");
    }

    #[test]
    fn refuses_bad_values() {
        assert_eq!(parse(b"\"\""), Err(KeyError::Empty));
        assert_eq!(parse(b""), Err(KeyError::Empty));
        assert_eq!(parse(b"\"abc"), Err(KeyError::Malformed));
        assert_eq!(parse(b"\"a\\b\""), Err(KeyError::Malformed));
        assert_eq!(parse(b"\"a\"x"), Err(KeyError::Malformed));
        assert_eq!(parse(b"a b"), Err(KeyError::Malformed));
        assert_eq!(parse(b"a,b"), Err(KeyError::Malformed));
        assert_eq!(parse("\"é\"".as_bytes()), Err(KeyError::Malformed));
        assert_eq!(parse(b"\"a\tb\""), Err(KeyError::Malformed));
    }

    #[test]
    fn length_is_counted_after_unquoting() {
        let max = "k".repeat(MAX_KEY_LEN);
        assert!(parse(format!("\"{max}\"").as_bytes()).is_ok());
        assert!(parse(max.as_bytes()).is_ok());
        assert_eq!(
            parse(format!("\"{max}k\"").as_bytes()),
            Err(KeyError::TooLong)
        );
        assert_eq!(parse(format!("{max}k").as_bytes()), Err(KeyError::TooLong));
    }

    #[test]
    fn duplicated_header_is_refused() {
        let mut h = HeaderMap::new();
        assert_eq!(IdempotencyKey::from_headers(&h), Ok(None));
        h.append(&IDEMPOTENCY_KEY, HeaderValue::from_static("\"a\""));
        h.append(&IDEMPOTENCY_KEY, HeaderValue::from_static("\"a\""));
        assert_eq!(IdempotencyKey::from_headers(&h), Err(KeyError::Duplicated));
    }

    #[test]
    fn debug_hides_the_key() {
        let k = IdempotencyKey::parse(b"secret-ish").unwrap();
        assert!(!format!("{k:?}").contains("secret"));
    }

    proptest! {
        #[test]
        fn parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(k) = IdempotencyKey::parse(&bytes) {
                prop_assert!((1..=MAX_KEY_LEN).contains(&k.as_str().len()));
                prop_assert!(k.as_str().bytes().all(|c| (0x20..=0x7e).contains(&c)));
            }
        }

        #[test]
        fn quoting_round_trips(key in "[ -~]{1,255}") {
            let quoted = format!("\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\""));
            prop_assert_eq!(parse(quoted.as_bytes()).unwrap(), key);
        }
    }
}
