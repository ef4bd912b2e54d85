//! The JetStream side: the stream and the durable pull consumer the workers share, and the
//! loop that hands each delivery to [`Worker::handle`] with at most `concurrency` in flight.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use async_nats::jetstream::{self, AckKind};
use futures_util::StreamExt;
use tokio::sync::Semaphore;
use tower_vigil_core::Backend;
use vigil_api::jobs;

use crate::handle::{Reply, Worker};

/// The shared durable consumer, created if missing (every worker may be the first).
///
/// # Errors
/// NATS's, as text.
pub async fn consumer(js: &jetstream::Context, ack_wait: Duration) -> Result<PullConsumer, String> {
    let stream = js
        .get_or_create_stream(jobs::stream_config())
        .await
        .map_err(|e| format!("the {} stream: {e}", jobs::STREAM))?;
    stream
        .get_or_create_consumer(
            jobs::CONSUMER,
            pull::Config {
                durable_name: Some(jobs::CONSUMER.to_owned()),
                ack_policy: AckPolicy::Explicit,
                ack_wait,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| format!("the {} consumer: {e}", jobs::CONSUMER))
}

/// Pulls and handles jobs until `stop` resolves, then waits for the ones in flight.
///
/// # Errors
/// When the consumer's message stream cannot be opened.
pub async fn run<B: Backend>(
    consumer: PullConsumer,
    worker: Arc<Worker<B>>,
    concurrency: usize,
    stop: impl Future<Output = ()>,
) -> Result<(), String> {
    // Pull no more than can run: a job waiting in a local buffer burns its ack wait.
    let mut messages = consumer
        .stream()
        .max_messages_per_batch(concurrency)
        .messages()
        .await
        .map_err(|e| format!("pulling jobs: {e}"))?;
    let slots = Arc::new(Semaphore::new(concurrency));
    tokio::pin!(stop);
    loop {
        let permit = tokio::select! {
            () = &mut stop => break,
            permit = slots.clone().acquire_owned() => permit.expect("never closed"),
        };
        let message = tokio::select! {
            () = &mut stop => break,
            next = messages.next() => match next {
                Some(Ok(m)) => m,
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "pulling a job failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
                None => break,
            },
        };
        let worker = worker.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let delivered = message.info().map_or(1, |i| i.delivered);
            let reply = worker.handle(message.payload.clone(), delivered).await;
            let kind = match reply {
                Reply::Ack => AckKind::Ack,
                Reply::Retry(after) => AckKind::Nak(Some(after)),
                Reply::Drop => AckKind::Term,
            };
            if let Err(e) = message.ack_with(kind).await {
                // The job stays unacknowledged: JetStream redelivers it after the ack wait,
                // and the ledger answers that delivery from the stored outcome.
                tracing::warn!(error = %e, "acknowledging a job failed");
            }
        });
    }
    // Let the jobs in flight finish (each acks itself) before the process ends.
    let _ = slots
        .acquire_many(u32::try_from(concurrency).unwrap_or(u32::MAX))
        .await;
    Ok(())
}
