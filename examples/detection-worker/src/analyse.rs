//! The work of one job as a tower service: analyse (under an optional cap on calls shared by
//! every worker, as a paid external analyser would need), then write the result under the
//! owner's lock with its fencing token. The worker stacks
//! [`ExactlyOnceLayer`](tower_vigil_idempotency::work::ExactlyOnceLayer) on top, so this runs
//! at most once at a time per job and never again once done.

use std::borrow::Cow;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use tower::Service;
use tower_vigil_core::{Backend, BackendError, ConfigError, Lock};
use tower_vigil_idempotency::work::Job;
use tower_vigil_ratelimit::{Acquire, Policy, acquire};
use vigil_api::jobs::{AnalyzeJob, JobResult};

use crate::sink::{Recorded, Sink};

/// One delivered job: what the ledger keys and fingerprints it by.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub job: AnalyzeJob,
    /// The message body as published: the fingerprint of the job's content.
    pub body: Bytes,
}

impl Job for Delivery {
    fn id(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.job.id)
    }

    fn payload(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.body)
    }
}

/// Why a job's work failed; the ledger then releases the job and it is redelivered.
#[derive(Debug)]
pub enum Failure {
    /// The owner's lock stayed held by another worker for a whole lease.
    Busy,
    /// The store refused the write: a newer lock holder wrote first.
    Stale,
    /// The owner's name does not make a lock resource.
    Lock(ConfigError),
    /// The backend (the lock, the cap) failed.
    Backend(BackendError),
    /// SQLite failed.
    Sqlite(rusqlite::Error),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Busy => f.write_str("the owner's lock stayed busy"),
            Self::Stale => f.write_str("the write was refused: a newer lock holder wrote first"),
            Self::Lock(e) => write!(f, "the owner's lock: {e}"),
            Self::Backend(e) => write!(f, "backend: {e}"),
            Self::Sqlite(e) => write!(f, "sqlite: {e}"),
        }
    }
}

impl std::error::Error for Failure {}

/// The analysis and its fenced write. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Analyse<B> {
    pub backend: B,
    pub sink: Sink,
    pub name: String,
    pub lease: Duration,
    /// Calls per second to the analyser, across every worker on the backend.
    pub cap: Option<Policy>,
    /// For tests: every Nth job (by the number its id ends with) takes this much longer.
    pub slow: Option<(u64, Duration)>,
}

impl<B: Backend> Service<Delivery> for Analyse<B> {
    type Response = Bytes;
    type Error = Failure;
    type Future = BoxFuture<'static, Result<Bytes, Failure>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Failure>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, delivery: Delivery) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { this.run(delivery.job).await })
    }
}

impl<B: Backend> Analyse<B> {
    async fn run(self, job: AnalyzeJob) -> Result<Bytes, Failure> {
        self.wait_for_cap().await?;
        let result = JobResult::of(&job);
        if let Some((every, by)) = self.slow
            && job_number(&job.id).is_some_and(|n| n.is_multiple_of(every))
        {
            tokio::time::sleep(by).await;
        }
        let resource = format!("owner-stats:{}", job.owner);
        let lock = Lock::new(self.backend.clone(), &resource, self.lease).map_err(Failure::Lock)?;
        let Some(mut guard) = lock.acquire(self.lease).await.map_err(Failure::Backend)? else {
            return Err(Failure::Busy);
        };
        guard.start_watchdog();
        let fence = guard.fencing_token();
        let recorded = self
            .sink
            .record(resource, fence, job, result.clone(), self.name.clone())
            .await
            .map_err(Failure::Sqlite)?;
        if let Err(e) = guard.release().await {
            tracing::debug!(error = %e, "releasing the owner's lock failed; its lease will lapse");
        }
        match recorded {
            Recorded::Applied | Recorded::AlreadyRecorded => Ok(result.to_bytes()),
            Recorded::StaleFence => Err(Failure::Stale),
        }
    }

    /// Takes one call from the shared cap, waiting as long as it says.
    async fn wait_for_cap(&self) -> Result<(), Failure> {
        let Some(policy) = &self.cap else {
            return Ok(());
        };
        let policies = std::slice::from_ref(policy);
        loop {
            let decision = acquire(&self.backend, Acquire::new("external-analyser", policies))
                .await
                .map_err(Failure::Backend)?;
            match decision.retry_after() {
                None if decision.allowed() => return Ok(()),
                wait => tokio::time::sleep(wait.unwrap_or(Duration::from_millis(10))).await,
            }
        }
    }
}

/// The trailing number of an id like `job-123`.
fn job_number(id: &str) -> Option<u64> {
    id.rsplit(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}
