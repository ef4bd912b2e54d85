//! Subscriptions over a dedicated pub/sub connection, checked by a heartbeat and reconnected
//! with backoff.
//!
//! Classic pub/sub is cluster-wide (every node forwards published messages over the cluster
//! bus), so on a cluster the subscriber connects to any reachable node.

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use redis::aio::PubSub;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

use std::sync::Arc;

use super::{RedisBackend, Shared};
use crate::backend::{BackendResult, Subscription, SubscriptionEvent};
use crate::error::BackendError;

/// Events a subscriber may fall behind by before the connection task waits for it.
const BUFFER: usize = 256;
const MIN_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// How often the connection is checked with a `PING`: a partition or a frozen server closes
/// nothing, so without it a subscriber would never learn that messages stopped coming (and a
/// cache trusting the stream would miss every revocation meanwhile). A ping unanswered within
/// the backend timeout counts as a lost connection.
const HEARTBEAT: Duration = Duration::from_secs(1);

pub(crate) async fn subscribe(
    backend: &RedisBackend,
    channel: String,
) -> BackendResult<Subscription> {
    let shared = Arc::clone(&backend.shared);
    let timeout = backend.timeout();
    let pubsub = connect(&shared.pubsub.clients().await, &channel, timeout).await?;
    let (tx, rx) = mpsc::channel(BUFFER);
    tokio::spawn(forward(pubsub, shared, channel, tx, timeout));
    Ok(Subscription::from_channel(rx))
}

/// A subscribed connection to the first node that answers within `timeout`.
async fn connect(
    clients: &[redis::Client],
    channel: &str,
    timeout: Duration,
) -> BackendResult<PubSub> {
    let mut last = None;
    for client in clients {
        let attempt = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        match tokio::time::timeout(timeout, attempt).await {
            Ok(Ok(pubsub)) => return Ok(pubsub),
            Ok(Err(e)) => last = Some(super::error::map(e)),
            Err(_) => last = Some(BackendError::timeout(timeout)),
        }
    }
    Err(last.unwrap_or_else(|| BackendError::protocol("no node to subscribe on")))
}

/// Resolves when the master moved (never without Sentinel).
async fn moved(moves: Option<&mut tokio::sync::watch::Receiver<u64>>) {
    match moves {
        Some(rx) => {
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending().await,
    }
}

/// Forwards messages until the subscriber is dropped; reports a lost connection, reconnects
/// with exponential backoff and reports when it is back.
async fn forward(
    mut pubsub: PubSub,
    shared: Arc<Shared>,
    channel: String,
    tx: mpsc::Sender<SubscriptionEvent>,
    timeout: Duration,
) {
    let mut moves = shared.pubsub.moves();
    loop {
        let (mut sink, mut stream) = pubsub.split();
        let mut heartbeat = tokio::time::interval_at(Instant::now() + HEARTBEAT, HEARTBEAT);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                msg = stream.next() => match msg {
                    Some(msg) => {
                        let payload = Bytes::copy_from_slice(msg.get_payload_bytes());
                        if tx.send(SubscriptionEvent::Message(payload)).await.is_err() {
                            return;
                        }
                    }
                    None => break,
                },
                _ = heartbeat.tick() => {
                    // Messages arriving meanwhile wait in the stream's buffer.
                    let pong = tokio::time::timeout(timeout, sink.ping::<redis::Value>()).await;
                    if !matches!(pong, Ok(Ok(_))) {
                        break;
                    }
                }
                () = tx.closed() => return,
                () = moved(moves.as_mut()) => {
                    tracing::warn!(%channel, "the sentinels switched the master; moving the subscription");
                    break;
                }
            }
        }
        // Dropping both halves closes the connection.
        drop((sink, stream));
        tracing::warn!(%channel, "pub/sub connection lost; reconnecting");
        if tx.send(SubscriptionEvent::Lost).await.is_err() {
            return;
        }
        let mut delay = MIN_BACKOFF;
        pubsub = loop {
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = tx.closed() => return,
            }
            // Asked again each time: under Sentinel the master may have moved.
            match connect(&shared.pubsub.clients().await, &channel, timeout).await {
                Ok(p) => break p,
                Err(_) => delay = (delay * 2).min(MAX_BACKOFF),
            }
        };
        tracing::info!(%channel, "pub/sub connection restored");
        if tx.send(SubscriptionEvent::Restored).await.is_err() {
            return;
        }
    }
}
