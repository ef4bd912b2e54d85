//! Exactly-once units of work outside HTTP: a worker's jobs, a broker's messages, anything
//! with an id. The same records, leases, owner tokens and fingerprints as the HTTP layer, on
//! memory, Redis or Redis Cluster.
//!
//! - [`WorkLedger::run`] claims a unit by its id, runs it with its lease renewed beside, and
//!   records its outcome; a duplicate (a redelivery, a republish) gets the stored outcome
//!   back without running anything ([`Done::is_replayed`]). Work that fails releases the id
//!   so a retry runs it; work that is cancelled or panics releases it in the background; a
//!   worker that dies lets its lease lapse.
//! - [`WorkLedger::claim`] is the same in steps, for code that cannot wrap its work in one
//!   future: a [`WorkTicket`] to [`complete`](WorkTicket::complete),
//!   [`release`](WorkTicket::release) or [`extend`](WorkTicket::extend).
//! - [`ExactlyOnceLayer`] does it for a tower `Service<M>` whose messages name their unit
//!   ([`Job`]): a worker is a tower stack too.
//!
//! # What "exactly once" means here
//! The ledger makes **completion** of a unit happen once: of any number of concurrent
//! claims, one runs; once it completed, no claim runs it again for the retention (7 days by
//! default). It cannot make a side effect that happened before a crash un-happen: a worker
//! that dies after writing to a database but before completing leaves the unit to run again
//! when its lease lapses, and a worker paused past its lease may still be running when the
//! next one starts. Make the side effect idempotent on the unit's id, or guard it with a
//! [`Lock`](tower_vigil_core::Lock)'s fencing token that the storage checks, as the
//! `detection-worker` example does.
//!
//! # Example
//!
//! ```
//! use std::convert::Infallible;
//! use tower_vigil_core::MemoryBackend;
//! use tower_vigil_idempotency::work::{WorkErrorKind, WorkLedger};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let ledger = WorkLedger::new(MemoryBackend::new(), "detection-jobs")?;
//! let analyse = || async { Ok::<_, Infallible>(String::from("verdict: clean")) };
//!
//! let first = ledger.run("job-42", b"payload", analyse).await?;
//! assert!(!first.is_replayed());
//!
//! // A redelivery of the same job runs nothing and gets the first outcome.
//! let again = ledger.run("job-42", b"payload", analyse).await?;
//! assert!(again.is_replayed());
//! assert_eq!(again.outcome(), "verdict: clean");
//!
//! // The same id with another payload is refused.
//! let reused = ledger.run("job-42", b"other", analyse).await.unwrap_err();
//! assert_eq!(reused.kind(), WorkErrorKind::Mismatch);
//! # Ok(())
//! # }
//! ```

mod claim;
mod error;
mod job;
mod layer;
mod ledger;
mod outcome;

pub use self::claim::{WorkClaim, WorkTicket};
pub use self::error::{WorkError, WorkErrorKind};
pub use self::job::Job;
pub use self::layer::{ExactlyOnce, ExactlyOnceLayer, ResponseFuture};
pub use self::ledger::{
    DEFAULT_WORK_RETENTION, MAX_ID_LEN, MAX_SCOPE_LEN, WorkLedger, WorkLedgerBuilder, WorkState,
};
pub use self::outcome::{Done, JobOutcome};
