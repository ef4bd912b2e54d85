//! Waking requests that wait for a duplicate in flight: one subscription per layer to the
//! store's announcements, fanned out in process to every waiter.
//!
//! Waiters still poll (with backoff) as a safety net: an announcement missed while the
//! subscription reconnects only delays a waiter to its next poll.

use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{OnceCell, broadcast};
use tower_vigil_core::backend::{Subscription, SubscriptionEvent};

use tower_vigil_core::Backend;

use crate::store;

/// Announcements a slow waiter may fall behind by; past that it just looks again.
const FAN_OUT: usize = 1024;

/// The in-process fan-out of the store's announcements, started on first use.
#[derive(Default)]
pub(crate) struct Waiters {
    hub: OnceCell<Arc<broadcast::Sender<Bytes>>>,
}

impl Waiters {
    /// A receiver of settled keys, or `None` when the backend could not subscribe now (a
    /// later waiter tries again; this one polls).
    pub(crate) async fn listen<B: Backend>(
        &self,
        backend: &B,
    ) -> Option<broadcast::Receiver<Bytes>> {
        let hub = self
            .hub
            .get_or_try_init(|| async {
                let subscription = store::announcements(backend).await?;
                let (tx, _) = broadcast::channel(FAN_OUT);
                let tx = Arc::new(tx);
                tokio::spawn(dispatch(subscription, Arc::downgrade(&tx)));
                Ok::<_, tower_vigil_core::BackendError>(tx)
            })
            .await;
        match hub {
            Ok(tx) => Some(tx.subscribe()),
            Err(e) => {
                tracing::debug!(error = %e, "subscribing to idempotency announcements failed; polling");
                None
            }
        }
    }
}

/// Forwards announcements until the layer is gone. A lost connection wakes every waiter
/// (an empty key), since announcements may have been missed.
async fn dispatch(mut subscription: Subscription, tx: Weak<broadcast::Sender<Bytes>>) {
    while let Some(event) = subscription.next().await {
        let Some(tx) = tx.upgrade() else { return };
        let key = match event {
            SubscriptionEvent::Message(key) => key,
            _ => Bytes::new(),
        };
        let _ = tx.send(key);
    }
}

/// Waits up to `max` for `key` to be announced; returns early on any sign it may have been.
pub(crate) async fn wait(rx: Option<&mut broadcast::Receiver<Bytes>>, key: &str, max: Duration) {
    let Some(rx) = rx else {
        tokio::time::sleep(max).await;
        return;
    };
    let announced = async {
        loop {
            match rx.recv().await {
                Ok(k) if k.is_empty() || k == key.as_bytes() => return,
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => return,
                Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
            }
        }
    };
    let _ = tokio::time::timeout(max, announced).await;
}
