//! [`WorkClaim`]: what a claim found; [`WorkTicket`]: the right to run one unit, held until
//! it is completed or released (dropping it releases it in the background).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::Backend;

use super::error::WorkError;
use super::ledger::Settings;
use crate::lease::renew;
use crate::metrics::{op, timed};
use crate::store;

/// What [`WorkLedger::claim`](super::WorkLedger::claim) found.
#[derive(Debug)]
#[must_use = "a claim to run holds the id until completed or released"]
pub enum WorkClaim<B: Backend> {
    /// The id was free: run the unit, then [`complete`](WorkTicket::complete) or
    /// [`release`](WorkTicket::release) the ticket.
    Run(WorkTicket<B>),
    /// Another worker runs it now; its lease ends in `lease_remaining` unless renewed. Leave
    /// the message for redelivery (or retry after the lease).
    InFlight {
        /// Time left on the holder's lease.
        lease_remaining: Duration,
    },
    /// It completed before: the stored outcome. Acknowledge the message, run nothing.
    Done(Bytes),
    /// The id was used with another payload.
    Mismatch,
}

/// The right to run one unit of work: the in-flight marker's owner token. Complete it with
/// the outcome, or release it so a retry runs the unit; dropping it unsettled releases it in
/// the background (on the current tokio runtime; without one the lease lapses).
#[must_use = "dropping the ticket releases the id"]
pub struct WorkTicket<B: Backend> {
    backend: B,
    settings: Arc<Settings>,
    key: String,
    owner: String,
    settled: bool,
}

impl<B: Backend> WorkTicket<B> {
    pub(super) fn new(backend: B, settings: Arc<Settings>, key: String, owner: String) -> Self {
        Self {
            backend,
            settings,
            key,
            owner,
            settled: false,
        }
    }

    /// The lease a claim or an [`extend`](Self::extend) sets.
    pub fn lease(&self) -> Duration {
        self.settings.lease
    }

    /// Resets the lease to its full length. False when it was lost (it expired, and another
    /// worker may hold the id now).
    pub async fn extend(&self) -> Result<bool, WorkError> {
        Ok(timed(
            op::EXTEND,
            store::extend(
                &self.backend,
                &self.key,
                self.owner.as_bytes(),
                self.settings.lease,
            ),
        )
        .await?)
    }

    /// Runs `work` with the lease renewed every third of its length beside it, for at most
    /// the ledger's maximum hold. Renewal stops when the lease is lost; the work runs on, and
    /// [`complete`](Self::complete) will then say so.
    pub async fn renewing<F: Future>(&self, work: F) -> F::Output {
        let settings = &self.settings;
        let renewal = renew(
            &self.backend,
            &self.key,
            &self.owner,
            settings.lease,
            settings.max_hold,
        );
        tokio::pin!(work, renewal);
        tokio::select! {
            out = &mut work => out,
            () = &mut renewal => work.await,
        }
    }

    /// Records `outcome` as the unit's, kept for the ledger's retention; every later claim of
    /// the id gets it back. [`LeaseLost`](super::WorkErrorKind::LeaseLost) when this ticket
    /// no longer held the id (nothing written); a backend error when the write failed or did
    /// not replicate (`WAIT`), in which case the ticket is released in the background.
    pub async fn complete(mut self, outcome: &Bytes) -> Result<(), WorkError> {
        let completed = timed(
            op::COMPLETE,
            store::complete(
                &self.backend,
                &self.key,
                self.owner.as_bytes(),
                outcome,
                self.settings.retention,
            ),
        )
        .await?;
        self.settled = true;
        if completed {
            Ok(())
        } else {
            Err(WorkError::lease_lost())
        }
    }

    /// Frees the id so a retry runs the unit again. False when this ticket no longer held it.
    pub async fn release(mut self) -> Result<bool, WorkError> {
        self.settled = true;
        Ok(timed(
            op::RELEASE,
            store::release(&self.backend, &self.key, self.owner.as_bytes()),
        )
        .await?)
    }
}

impl<B: Backend> Drop for WorkTicket<B> {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        // Unsettled: the work was cancelled, panicked, or its completion failed. Release
        // without blocking; a completed record is never deleted by a release.
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let backend = self.backend.clone();
        let key = std::mem::take(&mut self.key);
        let owner = std::mem::take(&mut self.owner);
        handle.spawn(async move {
            if let Err(e) = timed(op::RELEASE, store::release(&backend, &key, owner.as_bytes())).await {
                tracing::warn!(error = %e, "releasing an unsettled work ticket failed; its lease will lapse");
            }
        });
    }
}

impl<B: Backend> std::fmt::Debug for WorkTicket<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkTicket")
            .field("lease", &self.settings.lease)
            .field("settled", &self.settled)
            .finish_non_exhaustive()
    }
}
