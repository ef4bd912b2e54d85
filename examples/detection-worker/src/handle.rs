//! One delivery of a job: through the worker's tower stack (exactly once, then the analysis
//! and its fenced write), and what to tell JetStream.

use std::time::Duration;

use bytes::Bytes;
use tower::ServiceExt;
use tower_vigil_core::Backend;
use tower_vigil_idempotency::work::{ExactlyOnce, WorkErrorKind};
use vigil_api::jobs::AnalyzeJob;

use crate::analyse::{Analyse, Delivery};
use crate::sink::Sink;

/// What to answer JetStream for a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// Done (now or before): acknowledge.
    Ack,
    /// Not done: redeliver after this long.
    Retry(Duration),
    /// Can never be done (not a job, an id reused for another job): stop redelivering.
    Drop,
}

/// The worker: its service stack and where it logs deliveries.
#[derive(Debug, Clone)]
pub struct Worker<B> {
    /// `ExactlyOnceLayer` over [`Analyse`].
    pub service: ExactlyOnce<Analyse<B>, B>,
    pub sink: Sink,
    pub name: String,
    pub lease: Duration,
}

impl<B: Backend> Worker<B> {
    /// Handles one delivery (`delivered` is JetStream's count, 1 for the first).
    pub async fn handle(&self, body: Bytes, delivered: i64) -> Reply {
        let Ok(job) = AnalyzeJob::from_bytes(&body) else {
            tracing::warn!("not an analysis job; dropped");
            return Reply::Drop;
        };
        let id = job.id.clone();
        let run = self.service.clone().oneshot(Delivery { job, body }).await;
        let (reply, outcome) = match &run {
            Ok(done) if done.is_replayed() => (Reply::Ack, "replayed"),
            Ok(_) => (Reply::Ack, "ran"),
            Err(e) => match e.kind() {
                WorkErrorKind::InFlight => {
                    let after = e.retry_after().unwrap_or(self.lease);
                    (
                        Reply::Retry(after.max(Duration::from_millis(100))),
                        "in_flight",
                    )
                }
                WorkErrorKind::Mismatch | WorkErrorKind::InvalidId | WorkErrorKind::Corrupt => {
                    tracing::warn!(job = %id, error = %e, "job refused; dropped");
                    (Reply::Drop, "refused")
                }
                _ => {
                    tracing::warn!(job = %id, error = %e, "job failed; will be redelivered");
                    (Reply::Retry(Duration::from_secs(1)), "failed")
                }
            },
        };
        if let Err(e) = self
            .sink
            .delivery(id, self.name.clone(), delivered, outcome)
            .await
        {
            tracing::warn!(error = %e, "logging a delivery failed");
        }
        reply
    }
}
