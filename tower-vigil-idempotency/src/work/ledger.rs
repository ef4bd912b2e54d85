//! [`WorkLedger`]: claim a unit of work by its id, run it once, keep its outcome; and
//! [`WorkLedgerBuilder`], its checked settings.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::secret::random_token;
use tower_vigil_core::{Backend, ConfigError};

use super::claim::{WorkClaim, WorkTicket};
use super::error::WorkError;
use super::outcome::{Done, JobOutcome};
use crate::config::Times;
use crate::fingerprint::Fingerprint;
use crate::metrics::{self, op, timed};
use crate::store::{self, Claim};
use crate::{DEFAULT_LEASE, DEFAULT_MAX_HOLD};

/// How long a completed unit's outcome is kept by default: seven days, longer than any
/// broker keeps a message for redelivery.
pub const DEFAULT_WORK_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// The longest scope accepted.
pub const MAX_SCOPE_LEN: usize = 512;
/// The longest id accepted.
pub const MAX_ID_LEN: usize = 1024;

/// Exactly-once units of work on a [`Backend`]: the same records, leases, owner tokens and
/// fingerprints as the HTTP layer, keyed by a scope (what kind of work) and each unit's id.
/// Cheap to clone.
#[derive(Debug)]
pub struct WorkLedger<B> {
    backend: B,
    settings: Arc<Settings>,
}

impl<B: Clone> Clone for WorkLedger<B> {
    fn clone(&self) -> Self {
        Self {
            backend: self.backend.clone(),
            settings: self.settings.clone(),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Settings {
    /// The scope as stored: `w:` and the user's, so no HTTP scope (`s:`…) can equal it.
    pub(crate) scope: String,
    pub(crate) lease: Duration,
    pub(crate) max_hold: Duration,
    pub(crate) retention: Duration,
}

impl<B: Backend> WorkLedger<B> {
    /// A ledger for the units of work named `scope` (say `"detection-jobs"`), with the default
    /// lease (60 s, renewed while [`run`](Self::run) works, for at most 10 min) and retention
    /// (7 days).
    pub fn new(backend: B, scope: &str) -> Result<Self, ConfigError> {
        Self::builder(backend, scope).build()
    }

    /// A builder to change the lease, the maximum hold and the retention.
    pub fn builder(backend: B, scope: &str) -> WorkLedgerBuilder<B> {
        WorkLedgerBuilder {
            backend,
            scope: scope.to_owned(),
            lease: DEFAULT_LEASE,
            max_hold: DEFAULT_MAX_HOLD,
            retention: DEFAULT_WORK_RETENTION,
        }
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// Claims the unit `id` whose content is `payload` (its SHA-256 is kept to tell a reused
    /// id from a redelivery). Of any number of concurrent claims of one id, exactly one is
    /// told [`WorkClaim::Run`].
    pub async fn claim(&self, id: &str, payload: &[u8]) -> Result<WorkClaim<B>, WorkError> {
        check_id(id)?;
        let key = store::keys::record_key(&self.settings.scope, id);
        let owner = random_token(16);
        let fingerprint = Fingerprint::of_work(payload);
        let found = timed(
            op::CLAIM,
            store::claim(
                &self.backend,
                &key,
                &fingerprint,
                owner.as_bytes(),
                self.settings.lease,
            ),
        )
        .await?;
        Ok(match found {
            Claim::Acquired => WorkClaim::Run(WorkTicket::new(
                self.backend.clone(),
                self.settings.clone(),
                key,
                owner,
            )),
            Claim::InFlight { lease_remaining } => WorkClaim::InFlight { lease_remaining },
            Claim::Completed(outcome) => WorkClaim::Done(outcome),
            Claim::Mismatch => WorkClaim::Mismatch,
        })
    }

    /// Runs `work` for the unit `id` unless it ran before: claims it, runs it with the lease
    /// renewed beside, and records its outcome; a duplicate gets the stored outcome back
    /// ([`Done::is_replayed`]) without running anything.
    ///
    /// When `work` fails, the id is released (a retry runs it again) and its error comes back
    /// as [`WorkErrorKind::Failed`](super::WorkErrorKind::Failed). When this future is
    /// dropped mid-run, or `work` panics, the id is released in the background. Another
    /// worker's run in flight is [`InFlight`](super::WorkErrorKind::InFlight); the id used
    /// with another payload is [`Mismatch`](super::WorkErrorKind::Mismatch).
    pub async fn run<T, E, F, Fut>(
        &self,
        id: &str,
        payload: &[u8],
        work: F,
    ) -> Result<Done<T>, WorkError<E>>
    where
        T: JobOutcome,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let ticket = match self.claim(id, payload).await.map_err(WorkError::widen)? {
            WorkClaim::Run(ticket) => ticket,
            WorkClaim::Done(stored) => {
                metrics::work("replayed");
                return T::decode(stored)
                    .map(Done::replayed)
                    .map_err(|e| WorkError::corrupt(e.to_string()));
            }
            WorkClaim::InFlight { lease_remaining } => {
                metrics::work("in_flight");
                return Err(WorkError::in_flight(lease_remaining));
            }
            WorkClaim::Mismatch => {
                metrics::work("mismatch");
                return Err(WorkError::mismatch());
            }
        };
        match ticket.renewing(work()).await {
            Ok(outcome) => {
                ticket
                    .complete(&outcome.encode())
                    .await
                    .map_err(WorkError::widen)?;
                metrics::work("ran");
                Ok(Done::ran(outcome))
            }
            Err(e) => {
                metrics::work("failed");
                if let Err(release) = ticket.release().await {
                    tracing::warn!(error = %release, "releasing failed work's id failed; its lease will lapse");
                }
                Err(WorkError::failed(e))
            }
        }
    }

    /// What the store holds for `id` now, without claiming it: `None` when it is free (never
    /// claimed, released, or its record expired).
    pub async fn peek(&self, id: &str) -> Result<Option<WorkState>, WorkError> {
        check_id(id)?;
        let key = store::keys::record_key(&self.settings.scope, id);
        let found = timed(op::PEEK, store::peek(&self.backend, &key)).await?;
        Ok(found.map(|claim| match claim {
            Claim::Completed(outcome) => WorkState::Done(outcome),
            Claim::InFlight { lease_remaining } => WorkState::InFlight { lease_remaining },
            // The store answers only these two for a read.
            Claim::Acquired | Claim::Mismatch => WorkState::InFlight {
                lease_remaining: Duration::ZERO,
            },
        }))
    }
}

/// What [`WorkLedger::peek`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkState {
    /// A worker holds the id; its lease ends in `lease_remaining` unless renewed.
    InFlight {
        /// Time left on the holder's lease.
        lease_remaining: Duration,
    },
    /// The unit completed: its stored outcome.
    Done(Bytes),
}

fn check_id(id: &str) -> Result<(), WorkError> {
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return Err(WorkError::invalid_id(id.len()));
    }
    Ok(())
}

/// Settings of a [`WorkLedger`], checked by [`build`](Self::build).
#[derive(Debug)]
#[must_use]
pub struct WorkLedgerBuilder<B> {
    backend: B,
    scope: String,
    lease: Duration,
    max_hold: Duration,
    retention: Duration,
}

impl<B: Backend> WorkLedgerBuilder<B> {
    /// How long a claim holds the id without renewal (default 60 s, at least 30 ms): a worker
    /// that dies frees its units after this. [`WorkLedger::run`] renews it every third.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// The longest [`WorkLedger::run`] renews one lease (default 10 min): hung work frees its
    /// id in the end.
    pub fn max_hold(mut self, max_hold: Duration) -> Self {
        self.max_hold = max_hold;
        self
    }

    /// How long a completed unit's outcome is kept (default 7 days): a duplicate arriving
    /// later runs again. Keep it longer than any redelivery or republish can come.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// Checks every setting; the error names the first refused.
    pub fn build(self) -> Result<WorkLedger<B>, ConfigError> {
        if self.scope.is_empty() || self.scope.len() > MAX_SCOPE_LEN {
            return Err(ConfigError::new(
                "scope",
                format!("must be 1 to {MAX_SCOPE_LEN} bytes"),
            ));
        }
        let Times {
            lease,
            max_hold,
            retention,
        } = Times::check(self.lease, self.max_hold, self.retention)?;
        metrics::describe();
        Ok(WorkLedger {
            backend: self.backend,
            settings: Arc::new(Settings {
                scope: format!("w:{}", self.scope),
                lease,
                max_hold,
                retention,
            }),
        })
    }
}
