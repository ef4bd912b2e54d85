//! [`Reply`]: what a Lua script returned, in the backend's own terms (no redis-rs types).

use bytes::Bytes;

use crate::error::BackendError;
use crate::error::BackendResult;

/// A script's reply, as Redis converts Lua values: `false`/`nil` → [`Nil`](Reply::Nil), a
/// number → [`Int`](Reply::Int) (truncated), a string → [`Data`](Reply::Data), a table →
/// [`Array`](Reply::Array) (up to its first `nil`), `{ok = "…"}` → [`Status`](Reply::Status),
/// `true` → `Int(1)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// No value.
    Nil,
    /// An integer.
    Int(i64),
    /// A string of bytes.
    Data(Bytes),
    /// A list of replies.
    Array(Vec<Reply>),
    /// A status such as `OK`.
    Status(String),
}

impl Reply {
    /// The integer, or a protocol error.
    pub fn into_int(self) -> BackendResult<i64> {
        match self {
            Self::Int(i) => Ok(i),
            Self::Data(b) => std::str::from_utf8(&b)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| BackendError::protocol("script returned text, not an integer")),
            other => Err(unexpected("an integer", &other)),
        }
    }

    /// The bytes (`None` for [`Nil`](Self::Nil)), or a protocol error.
    pub fn into_data(self) -> BackendResult<Option<Bytes>> {
        match self {
            Self::Nil => Ok(None),
            Self::Data(b) => Ok(Some(b)),
            Self::Int(i) => Ok(Some(Bytes::from(i.to_string()))),
            other => Err(unexpected("a string", &other)),
        }
    }

    /// The elements (empty for [`Nil`](Self::Nil)), or a protocol error.
    pub fn into_array(self) -> BackendResult<Vec<Reply>> {
        match self {
            Self::Nil => Ok(Vec::new()),
            Self::Array(a) => Ok(a),
            other => Err(unexpected("an array", &other)),
        }
    }

    /// Exactly `N` elements, or a protocol error.
    pub fn into_tuple<const N: usize>(self) -> BackendResult<[Reply; N]> {
        let items = self.into_array()?;
        let got = items.len();
        items.try_into().map_err(|_| {
            BackendError::protocol(format!(
                "script returned {got} values where {N} were expected"
            ))
        })
    }

    /// True for [`Nil`](Self::Nil).
    pub fn is_nil(&self) -> bool {
        matches!(self, Self::Nil)
    }
}

fn unexpected(wanted: &str, got: &Reply) -> BackendError {
    let kind = match got {
        Reply::Nil => "nil",
        Reply::Int(_) => "an integer",
        Reply::Data(_) => "a string",
        Reply::Array(_) => "an array",
        Reply::Status(_) => "a status",
    };
    BackendError::protocol(format!(
        "script returned {kind} where {wanted} was expected"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(Reply::Int(3).into_int().unwrap(), 3);
        assert_eq!(
            Reply::Data(Bytes::from_static(b"42")).into_int().unwrap(),
            42
        );
        assert!(Reply::Nil.into_int().is_err());
        assert_eq!(Reply::Nil.into_data().unwrap(), None);
        assert!(Reply::Array(vec![]).into_data().is_err());
        let [a, b] = Reply::Array(vec![Reply::Int(1), Reply::Nil])
            .into_tuple()
            .unwrap();
        assert_eq!((a, b), (Reply::Int(1), Reply::Nil));
        assert!(Reply::Array(vec![Reply::Int(1)]).into_tuple::<2>().is_err());
    }
}
