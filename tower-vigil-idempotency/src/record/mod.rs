//! What a completed key holds: a [`StoredResponse`] to replay, or a [`NotReplayable`]
//! outcome (the handler ran but its response could not be kept), each in a versioned,
//! self-describing encoding; [`Record`] reads either.
//!
//! Every record starts with the magic `VIR` and a kind-and-version byte: `1` a response
//! ([`StoredResponse`]), `2` a not-replayable outcome ([`NotReplayable`]). Decoding checks
//! every length, so a truncated or foreign value is an error (answered with a 500 and never a
//! re-execution), not a wrong replay.
//!
//! ```
//! use bytes::Bytes;
//! use http::{HeaderMap, StatusCode};
//! use tower_vigil_idempotency::__fuzz::StoredResponse;
//!
//! let mut headers = HeaderMap::new();
//! headers.insert("content-type", "application/json".parse().unwrap());
//! let rec = StoredResponse::new(StatusCode::CREATED, headers, Bytes::from_static(b"{\"id\":1}"));
//! let back = StoredResponse::decode(&rec.encode()).unwrap();
//! assert_eq!(back, rec);
//! assert!(StoredResponse::decode(b"garbage").is_err());
//! ```

mod outcome;
mod response;
mod wire;

pub use outcome::{NotReplayable, NotReplayableReason, Record};
pub use response::StoredResponse;
pub use wire::DecodeError;
