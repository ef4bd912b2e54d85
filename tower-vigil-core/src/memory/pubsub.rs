//! In-process publish/subscribe for the memory backend.

use std::collections::HashMap;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::broadcast;

use crate::backend::Subscription;

/// Messages a slow subscriber may fall behind by before it is told it lost some.
const CHANNEL_CAPACITY: usize = 1024;

#[derive(Default)]
pub(crate) struct PubSub {
    channels: Mutex<HashMap<String, broadcast::Sender<Bytes>>>,
}

impl PubSub {
    pub(crate) fn publish(&self, channel: &str, message: Bytes) {
        let mut channels = self.channels.lock();
        if let Some(tx) = channels.get(channel)
            && tx.send(message).is_err()
        {
            // No subscriber is left: forget the channel.
            channels.remove(channel);
        }
    }

    pub(crate) fn subscribe(&self, channel: &str) -> Subscription {
        let mut channels = self.channels.lock();
        let tx = channels
            .entry(channel.to_owned())
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0);
        Subscription::from_broadcast(tx.subscribe())
    }
}
