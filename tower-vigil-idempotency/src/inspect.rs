//! [`inspect`]: what an idempotency key holds, for operators (the `vigil idempotency inspect`
//! command) and admin endpoints: free, in flight (with its lease) or completed (with the
//! stored status), read without changing anything.
//!
//! ```
//! use tower_vigil_core::MemoryBackend;
//! use tower_vigil_idempotency::{Inspection, inspect};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_vigil_core::BackendError> {
//! let backend = MemoryBackend::new();
//! // The scope is what the caller's principal gives (`Principal::scope`), e.g. `apikey:k-demo`.
//! let found = inspect(&backend, "apikey:k-demo", "order-42").await?;
//! assert_eq!(found, Inspection::Free);
//! # Ok(())
//! # }
//! ```

use std::time::Duration;

use http::StatusCode;
use tower_vigil_core::{Backend, BackendError, BackendResult};

use crate::record::{NotReplayableReason, Record};
use crate::store::{self, Claim};

/// What [`inspect`] found under one key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Inspection {
    /// Nothing stored: a request with this key would run.
    Free,
    /// A request holds the key and is running (or its holder died and the lease has not
    /// lapsed yet): duplicates get `409` until it completes or the lease ends.
    InFlight {
        /// Time left on the holder's lease.
        lease_remaining: Duration,
        /// Whether the marker carries its owner token (every marker the layer writes does;
        /// only the owner can complete, extend or release it).
        owner_present: bool,
    },
    /// A request completed: duplicates with the same fingerprint get its record.
    Completed(CompletedRecord),
}

/// The completed record of a key, as [`inspect`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompletedRecord {
    /// The status the first request was answered with.
    pub status: StatusCode,
    /// `None` when the response is stored and replayed; else why it was not kept (a duplicate
    /// is refused rather than run again).
    pub not_replayable: Option<NotReplayableReason>,
    /// Bytes of the stored response body (0 when not replayable).
    pub body_len: usize,
    /// Headers stored with the response (0 when not replayable).
    pub header_count: usize,
    /// How long the record is kept, if the backend reports it.
    pub retention_remaining: Option<Duration>,
}

/// Reads the key `client_key` of the caller whose principal's
/// [`scope`](tower_vigil_core::Principal::scope) (or the layer's scope closure) gave `scope`,
/// without changing it: the same record key and the same read ([`store::peek`]) as the
/// layer's, the owner's presence and the record's retention read just after it. The three
/// reads are not one atomic step: a key that changes between them is reported as the first
/// read found it.
///
/// # Errors
/// The backend's error, or kind `Protocol` when the key holds something this crate did not
/// write (or a record it cannot decode).
pub async fn inspect<B: Backend>(
    backend: &B,
    scope: &str,
    client_key: &str,
) -> BackendResult<Inspection> {
    let key = store::keys::record_key(&crate::scope::principal_scope(scope), client_key);
    match store::peek(backend, &key).await? {
        None | Some(Claim::Acquired | Claim::Mismatch) => Ok(Inspection::Free),
        Some(Claim::InFlight { lease_remaining }) => {
            let owner_present = backend
                .hash_read(&key)
                .await?
                .is_some_and(|h| h.fields.get("o").is_some_and(|o| !o.is_empty()));
            Ok(Inspection::InFlight {
                lease_remaining,
                owner_present,
            })
        }
        Some(Claim::Completed(bytes)) => {
            let record =
                Record::decode(&bytes).map_err(|e| BackendError::protocol(e.to_string()))?;
            let retention_remaining = backend.ttl(&key).await?;
            let mut found = CompletedRecord {
                status: StatusCode::OK,
                not_replayable: None,
                body_len: 0,
                header_count: 0,
                retention_remaining,
            };
            match record {
                Record::Response(r) => {
                    found.status = r.status;
                    found.body_len = r.body.len();
                    found.header_count = r.headers.len();
                }
                Record::NotReplayable(n) => {
                    found.status = n.status;
                    found.not_replayable = Some(n.reason);
                }
            }
            Ok(Inspection::Completed(found))
        }
    }
}
