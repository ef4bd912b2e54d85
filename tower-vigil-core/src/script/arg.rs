//! [`Arg`] and [`Args`]: a script's arguments, as the caller gives them and as a twin reads them.

use bytes::Bytes;

use crate::error::BackendError;
use crate::error::BackendResult;

/// One script argument (`ARGV[n]` in Lua). Integers travel to Redis as decimal strings, which
/// Lua reads with `tonumber`; the twin reads them as they were given.
///
/// ```
/// use tower_vigil_core::script::Arg;
///
/// let args = [Arg::from(42_i64), Arg::from("owner-1"), Arg::from(&b"\x00raw"[..])];
/// assert_eq!(args[0], Arg::Int(42));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg<'a> {
    /// An integer.
    Int(i64),
    /// A string of bytes.
    Bytes(&'a [u8]),
    /// A string of bytes the twin can keep without copying ([`Args::bytes`] clones the
    /// handle): for large values such as a stored response.
    Shared(&'a Bytes),
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<i32> for Arg<'_> {
    fn from(v: i32) -> Self {
        Self::Int(i64::from(v))
    }
}

impl From<u32> for Arg<'_> {
    fn from(v: u32) -> Self {
        Self::Int(i64::from(v))
    }
}

impl From<u64> for Arg<'_> {
    /// Saturates at `i64::MAX`.
    fn from(v: u64) -> Self {
        Self::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<usize> for Arg<'_> {
    /// Saturates at `i64::MAX`.
    fn from(v: usize) -> Self {
        Self::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Self::Bytes(v.as_bytes())
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Self::Bytes(v.as_bytes())
    }
}

impl<'a> From<&'a [u8]> for Arg<'a> {
    fn from(v: &'a [u8]) -> Self {
        Self::Bytes(v)
    }
}

impl<'a> From<&'a Vec<u8>> for Arg<'a> {
    fn from(v: &'a Vec<u8>) -> Self {
        Self::Bytes(v)
    }
}

impl<'a> From<&'a Bytes> for Arg<'a> {
    fn from(v: &'a Bytes) -> Self {
        Self::Shared(v)
    }
}

impl Arg<'_> {
    /// The bytes Redis receives for this argument, where they are bytes already.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Self::Int(_) => None,
            Self::Bytes(b) => Some(b),
            Self::Shared(b) => Some(b),
        }
    }
}

/// A twin's view of its arguments: typed reads that fail as a Lua script would, with an error
/// of kind [`Protocol`](crate::BackendErrorKind::Protocol), instead of panicking.
#[derive(Debug, Clone, Copy)]
pub struct Args<'a> {
    args: &'a [Arg<'a>],
}

impl<'a> Args<'a> {
    /// A view of `args`.
    pub fn new(args: &'a [Arg<'a>]) -> Self {
        Self { args }
    }

    /// How many arguments there are (`#ARGV`).
    pub fn len(&self) -> usize {
        self.args.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.args.is_empty()
    }

    /// Every argument.
    pub fn as_slice(&self) -> &'a [Arg<'a>] {
        self.args
    }

    /// The arguments from index `from` on (empty past the end).
    pub fn rest(&self, from: usize) -> Args<'a> {
        Args {
            args: self.args.get(from..).unwrap_or_default(),
        }
    }

    fn get(&self, i: usize) -> BackendResult<&'a Arg<'a>> {
        self.args.get(i).ok_or_else(|| {
            BackendError::script(format!(
                "script argument {} missing ({} given)",
                i + 1,
                self.args.len()
            ))
        })
    }

    /// Argument `i` (from 0) as an integer: an [`Arg::Int`], or decimal digits as Lua's
    /// `tonumber` reads them.
    pub fn int(&self, i: usize) -> BackendResult<i64> {
        match self.get(i)? {
            Arg::Int(v) => Ok(*v),
            Arg::Bytes(_) | Arg::Shared(_) => self
                .raw(i)
                .ok()
                .and_then(|b| std::str::from_utf8(b).ok())
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| {
                    BackendError::script(format!("script argument {} is not an integer", i + 1))
                }),
        }
    }

    /// Argument `i` (from 0) as bytes: an [`Arg::Bytes`] (copied), an [`Arg::Shared`] (the
    /// handle cloned, no copy), or an integer's decimal digits.
    pub fn bytes(&self, i: usize) -> BackendResult<Bytes> {
        match self.get(i)? {
            Arg::Int(v) => Ok(Bytes::from(v.to_string())),
            Arg::Bytes(b) => Ok(Bytes::copy_from_slice(b)),
            Arg::Shared(b) => Ok((*b).clone()),
        }
    }

    /// Argument `i` (from 0) as a borrowed byte string; an integer is a protocol error (use
    /// [`bytes`](Self::bytes) to accept both).
    pub fn raw(&self, i: usize) -> BackendResult<&'a [u8]> {
        match self.get(i)? {
            Arg::Bytes(b) => Ok(b),
            Arg::Shared(b) => Ok(b),
            Arg::Int(_) => Err(BackendError::script(format!(
                "script argument {} is an integer where bytes were expected",
                i + 1
            ))),
        }
    }

    /// Argument `i` (from 0) as UTF-8 text.
    pub fn str(&self, i: usize) -> BackendResult<&'a str> {
        std::str::from_utf8(self.raw(i)?)
            .map_err(|_| BackendError::script(format!("script argument {} is not UTF-8", i + 1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_like_lua() {
        let given = [
            Arg::Int(7),
            Arg::from("12"),
            Arg::from("x"),
            Arg::from(&b"\xff"[..]),
        ];
        let args = Args::new(&given);
        assert_eq!(args.int(0).unwrap(), 7);
        assert_eq!(args.int(1).unwrap(), 12);
        assert!(args.int(2).is_err());
        assert_eq!(args.bytes(0).unwrap(), Bytes::from_static(b"7"));
        assert_eq!(args.str(2).unwrap(), "x");
        assert!(args.str(3).is_err());
        assert!(args.raw(0).is_err());
        assert!(args.int(9).is_err());
        assert_eq!(args.rest(2).len(), 2);
        assert!(args.rest(9).is_empty());
    }
}
