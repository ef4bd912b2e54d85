//! Pub/sub: delivery in order, to the channel's subscribers only.

use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::{Backend, SubscriptionEvent};

/// Published messages reach every subscriber of the channel, in order, and no other channel.
pub async fn pubsub_delivers_in_order<B: Backend>(backend: B) {
    let mut first = backend.subscribe("events").await.unwrap();
    let mut second = backend.subscribe("events").await.unwrap();
    let mut other = backend.subscribe("other").await.unwrap();
    for i in 0..3 {
        backend
            .publish("events", Bytes::from(format!("m{i}")))
            .await
            .unwrap();
    }
    for sub in [&mut first, &mut second] {
        for i in 0..3 {
            let event = tokio::time::timeout(Duration::from_secs(5), sub.next())
                .await
                .expect("a message within 5 s");
            assert_eq!(
                event,
                Some(SubscriptionEvent::Message(Bytes::from(format!("m{i}"))))
            );
        }
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(200), other.next())
            .await
            .is_err(),
        "nothing on another channel"
    );
}
