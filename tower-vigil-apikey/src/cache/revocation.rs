//! Revocation across instances: the invalidation subscriber, one task per cache that evicts
//! the keys other instances revoked and tracks whether the invalidation stream can be trusted
//! (publishing is [`ApiKeyCache::invalidate_hash`](super::ApiKeyCache::invalidate_hash)).

use std::sync::Weak;
use std::time::Duration;

use tokio::sync::oneshot;
use tower_vigil_core::{Backend, SubscriptionEvent};

use super::l1::is_key_hash;
use super::state::Inner;
use crate::KeyStore;
use crate::keys::INVALIDATION_CHANNEL;

const MIN_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Runs until the cache is dropped. Until the first subscription is live, and whenever it is
/// lost, in-process entries count as stale.
pub(super) async fn run<B: Backend, K: KeyStore>(
    cache: Weak<Inner<B, K>>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let mut backoff = MIN_BACKOFF;
    loop {
        let Some(backend) = cache.upgrade().map(|c| c.backend.clone()) else {
            return;
        };
        let subscribed = tokio::select! {
            s = backend.subscribe(INVALIDATION_CHANNEL) => s,
            _ = &mut shutdown => return,
        };
        drop(backend);
        let mut sub = match subscribed {
            Ok(sub) => sub,
            Err(e) => {
                tracing::warn!(error = %e, "api-key invalidation subscription failed; retrying");
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    _ = &mut shutdown => return,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        backoff = MIN_BACKOFF;
        match cache.upgrade() {
            Some(c) => c.local.mark_live(),
            None => return,
        }
        loop {
            let event = tokio::select! {
                e = sub.next() => e,
                _ = &mut shutdown => return,
            };
            let Some(c) = cache.upgrade() else { return };
            match event {
                Some(SubscriptionEvent::Message(payload)) => {
                    if let Ok(hash) = std::str::from_utf8(&payload)
                        && is_key_hash(hash)
                    {
                        c.evict_local(hash).await;
                    }
                }
                Some(SubscriptionEvent::Lost) => {
                    tracing::warn!(
                        "api-key invalidations may be missed; in-process entries are stale"
                    );
                    c.local.mark_lost();
                }
                Some(SubscriptionEvent::Restored) => c.local.mark_live(),
                Some(_) => {}
                None => {
                    c.local.mark_lost();
                    break;
                }
            }
        }
    }
}
