//! [`NotReplayable`]: the record of a request that ran but whose response cannot be
//! replayed, and [`Record`], either kind read back from a store.
//!
//! Layout: the magic `VIR`, the kind-and-version byte `2` (a [`StoredResponse`] is `1`), the
//! original status (u16) and the reason (one byte). An instance that only knows version 1
//! reads it as an unknown version, which it answers with a 500 and never a re-execution.
//!
//! ```
//! use http::StatusCode;
//! use tower_vigil_idempotency::__fuzz::{NotReplayable, NotReplayableReason, Record};
//!
//! let outcome = NotReplayable::new(StatusCode::OK, NotReplayableReason::TooLarge);
//! assert_eq!(Record::decode(&outcome.encode()), Ok(Record::NotReplayable(outcome)));
//! ```

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};
use http::StatusCode;

use super::response::{StoredResponse, VERSION};
use super::wire::{DecodeError, MAGIC, Reader};

const NOT_REPLAYABLE: u8 = 2;

/// Why a completed request's response was not kept for replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NotReplayableReason {
    /// The response body grew past the capture limit (it was streamed to the client whole).
    TooLarge,
    /// Reading the response body failed part way (the client got an error after some of it).
    BodyFailed,
}

impl NotReplayableReason {
    /// A short token for problem details and logs: `too-large` or `body-failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TooLarge => "too-large",
            Self::BodyFailed => "body-failed",
        }
    }

    fn code(self) -> u8 {
        match self {
            Self::TooLarge => 1,
            Self::BodyFailed => 2,
        }
    }

    fn from_code(code: u8) -> Result<Self, DecodeError> {
        match code {
            1 => Ok(Self::TooLarge),
            2 => Ok(Self::BodyFailed),
            _ => Err(DecodeError("unknown not-replayable reason")),
        }
    }
}

impl fmt::Display for NotReplayableReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request that completed (its handler ran, with side effects) but whose response cannot
/// be replayed. Stored under the key like a response, so a retry is refused instead of
/// running the handler a second time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotReplayable {
    /// The status the handler answered the first request with.
    pub status: StatusCode,
    /// Why the response was not kept.
    pub reason: NotReplayableReason,
}

impl NotReplayable {
    /// An outcome.
    pub fn new(status: StatusCode, reason: NotReplayableReason) -> Self {
        Self { status, reason }
    }

    /// The encoded outcome.
    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(7);
        out.put_slice(MAGIC);
        out.put_u8(NOT_REPLAYABLE);
        out.put_u16(self.status.as_u16());
        out.put_u8(self.reason.code());
        out.freeze()
    }
}

/// What a completed key holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A response to replay.
    Response(Box<StoredResponse>),
    /// A request that ran but cannot be replayed.
    NotReplayable(NotReplayable),
}

impl Record {
    /// The encoded record.
    pub fn encode(&self) -> Bytes {
        match self {
            Self::Response(r) => r.encode(),
            Self::NotReplayable(n) => n.encode(),
        }
    }

    /// Reads a record of either kind; anything else is an error.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        match bytes {
            [m0, m1, m2, VERSION, ..] if [*m0, *m1, *m2] == *MAGIC => {
                StoredResponse::decode(bytes).map(|r| Self::Response(Box::new(r)))
            }
            [m0, m1, m2, NOT_REPLAYABLE, rest @ ..] if [*m0, *m1, *m2] == *MAGIC => {
                let mut r = Reader(rest);
                let status =
                    StatusCode::from_u16(r.u16()?).map_err(|_| DecodeError("invalid status"))?;
                let reason = NotReplayableReason::from_code(r.take(1)?[0])?;
                if !r.0.is_empty() {
                    return Err(DecodeError("trailing bytes"));
                }
                Ok(Self::NotReplayable(NotReplayable::new(status, reason)))
            }
            _ => StoredResponse::decode(bytes).map(|r| Self::Response(Box::new(r))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn both_kinds_round_trip() {
        let response = Record::Response(Box::new(StoredResponse::new(
            StatusCode::CREATED,
            http::HeaderMap::new(),
            Bytes::from_static(b"{}"),
        )));
        assert_eq!(Record::decode(&response.encode()), Ok(response));
        for reason in [
            NotReplayableReason::TooLarge,
            NotReplayableReason::BodyFailed,
        ] {
            let n = Record::NotReplayable(NotReplayable::new(StatusCode::BAD_GATEWAY, reason));
            assert_eq!(Record::decode(&n.encode()), Ok(n));
        }
    }

    #[test]
    fn truncated_or_unknown_outcomes_are_errors() {
        let bytes = NotReplayable::new(StatusCode::OK, NotReplayableReason::TooLarge).encode();
        for n in 0..bytes.len() {
            assert!(Record::decode(&bytes[..n]).is_err(), "prefix {n}");
        }
        let mut longer = bytes.to_vec();
        longer.push(0);
        assert!(Record::decode(&longer).is_err());
        let mut unknown = bytes.to_vec();
        unknown[6] = 9;
        assert!(Record::decode(&unknown).is_err());
        // A version-1 reader refuses the new kind instead of misreading it.
        assert!(StoredResponse::decode(&bytes).is_err());
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Record::decode(&bytes);
        }
    }
}
