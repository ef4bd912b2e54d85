//! [`Subscription`]: a stream of messages on one channel, with connection-loss notices.

use bytes::Bytes;
use tokio::sync::{broadcast, mpsc};

/// What a [`Subscription`] yields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubscriptionEvent {
    /// A published message.
    Message(Bytes),
    /// The subscription lost its connection or fell behind: messages may have been missed
    /// from here until [`Restored`](Self::Restored). Consumers that cache on the strength of
    /// invalidation messages must treat their cache as stale.
    Lost,
    /// The subscription is live again after [`Lost`](Self::Lost).
    Restored,
}

/// A live subscription to one channel. Dropping it unsubscribes.
#[derive(Debug)]
pub struct Subscription {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    /// In-process: a broadcast receiver; lag is reported as `Lost` then `Restored`.
    Broadcast {
        rx: broadcast::Receiver<Bytes>,
        pending_restore: bool,
    },
    /// Fed by a task that owns a server connection.
    Channel(mpsc::Receiver<SubscriptionEvent>),
}

impl Subscription {
    pub(crate) fn from_broadcast(rx: broadcast::Receiver<Bytes>) -> Self {
        Self {
            inner: Inner::Broadcast {
                rx,
                pending_restore: false,
            },
        }
    }

    pub(crate) fn from_channel(rx: mpsc::Receiver<SubscriptionEvent>) -> Self {
        Self {
            inner: Inner::Channel(rx),
        }
    }

    /// The next event, or `None` once the backend is gone for good.
    pub async fn next(&mut self) -> Option<SubscriptionEvent> {
        match &mut self.inner {
            Inner::Broadcast {
                rx,
                pending_restore,
            } => {
                if std::mem::take(pending_restore) {
                    return Some(SubscriptionEvent::Restored);
                }
                match rx.recv().await {
                    Ok(msg) => Some(SubscriptionEvent::Message(msg)),
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        *pending_restore = true;
                        Some(SubscriptionEvent::Lost)
                    }
                    Err(broadcast::error::RecvError::Closed) => None,
                }
            }
            Inner::Channel(rx) => rx.recv().await,
        }
    }
}
