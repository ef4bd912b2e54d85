//! [`JobQueue`]: the server's side of the analysis jobs. Publishes jobs to JetStream and reads
//! their outcomes from the work ledger the workers write to (the contract both sides share is
//! `vigil_api::jobs`).

use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage};
use tower_vigil_core::Backend;
use tower_vigil_idempotency::work::WorkLedger;
use vigil_api::jobs::{self, AnalyzeJob};

/// The longest a publish may take, its acknowledgement included. A request holds its
/// idempotency lease while it waits, so a stalled NATS answers 503 after this rather than
/// letting the client's retries pile up as 409s.
pub const PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest the startup connection to NATS may take before the server gives up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A JetStream context on the jobs stream and the ledger of their outcomes. Cheap to clone.
pub struct JobQueue<B> {
    jetstream: jetstream::Context,
    ledger: WorkLedger<B>,
}

impl<B: Backend> Clone for JobQueue<B> {
    fn clone(&self) -> Self {
        Self {
            jetstream: self.jetstream.clone(),
            ledger: self.ledger.clone(),
        }
    }
}

impl<B: Backend> JobQueue<B> {
    /// Connects to NATS at `url` and creates the jobs stream if it is missing (the worker does
    /// the same, so either may start first). The ledger reads `backend`, where the workers
    /// record outcomes.
    ///
    /// # Errors
    /// When NATS cannot be reached, has no JetStream, or refuses the stream: a startup error.
    pub async fn connect(url: &str, backend: B) -> Result<Self, String> {
        // The URL is not repeated in the messages: it may carry a user and password.
        let client = async_nats::ConnectOptions::new()
            .name("vigil-api")
            .connection_timeout(CONNECT_TIMEOUT)
            .connect(url)
            .await
            .map_err(|e| format!("NATS_URL: connecting to NATS: {e}"))?;
        let jetstream = jetstream::ContextBuilder::new()
            .timeout(PUBLISH_TIMEOUT)
            .build(client);
        jetstream
            .get_or_create_stream(jobs::stream_config())
            .await
            .map_err(|e| {
                format!(
                    "NATS_URL: the JetStream stream {} could not be created (is JetStream on?): {e}",
                    jobs::STREAM
                )
            })?;
        let ledger = WorkLedger::new(backend, jobs::LEDGER_SCOPE).map_err(|e| e.to_string())?;
        Ok(Self { jetstream, ledger })
    }

    /// Publishes `job` and waits for JetStream to acknowledge it is stored, at most
    /// [`PUBLISH_TIMEOUT`]. The id goes into `Nats-Msg-Id` as well as the body, so a
    /// republish within the stream's duplicate window is dropped by JetStream itself.
    ///
    /// # Errors
    /// When the publish is refused or not acknowledged in time (text for the logs). The job
    /// may still have been stored then; the worker's ledger makes running it harmless.
    pub async fn publish(&self, job: &AnalyzeJob) -> Result<(), String> {
        let message = PublishMessage::build()
            .payload(job.to_bytes())
            .message_id(&job.id);
        let publish = async {
            let ack = self
                .jetstream
                .send_publish(jobs::SUBJECT, message)
                .await
                .map_err(|e| e.to_string())?
                .await
                .map_err(|e| e.to_string())?;
            if ack.duplicate {
                // A fresh UUID should never be a duplicate: worth a look, not a failure (the
                // stream holds the job either way).
                tracing::warn!(job_id = %job.id, "JetStream reported the job as a duplicate");
            }
            Ok(())
        };
        tokio::time::timeout(PUBLISH_TIMEOUT, publish)
            .await
            .map_err(|_| format!("not acknowledged within {PUBLISH_TIMEOUT:?}"))?
    }

    /// The ledger the workers record outcomes in.
    pub fn ledger(&self) -> &WorkLedger<B> {
        &self.ledger
    }
}
