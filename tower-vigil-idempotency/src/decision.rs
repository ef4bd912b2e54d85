//! The decision engine: claims a request's key and decides what happens to the request. The
//! claim is one atomic store call that either takes the key (the request runs) or reports
//! what holds it: a completed record (replay), a request in flight (wait for it, or `409`),
//! another request (`422`). A failing store is left to the [failure
//! policy](crate::failure_policy).

use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;
use tower_vigil_core::{Backend, BackendErrorKind};

use crate::failure_policy::{self, Fallback};
use crate::fingerprint::Fingerprint;
use crate::layer::rejection::Cause;
use crate::metrics::{op, timed};
use crate::shared::Shared;
use crate::store::{self, Claim};
use crate::waiters;

/// Polling for a request in flight starts at this interval and doubles up to `MAX_POLL`.
const FIRST_POLL: Duration = Duration::from_millis(20);
const MAX_POLL: Duration = Duration::from_millis(500);

/// What happens to a keyed request.
#[derive(Debug)]
pub(crate) enum Decision {
    /// It holds the key: run it.
    Run,
    /// A request with the same fingerprint completed: answer with its record.
    Replay(Bytes),
    /// Refuse it.
    Reject(Cause),
    /// The store failed and the layer fails open: run it without idempotency.
    RunWithout,
}

/// Claims `key` for the request of `fingerprint` as `owner`, waiting for a request in flight
/// when the layer is set to.
pub(crate) async fn decide<B: Backend>(
    shared: &Shared<B>,
    key: &str,
    fingerprint: &Fingerprint,
    owner: &str,
) -> Decision {
    let config = &shared.config;
    let deadline = config.wait_for_in_flight.map(|w| Instant::now() + w);
    let mut poll = FIRST_POLL;
    let mut announcements = None;
    loop {
        let claim = timed(
            op::CLAIM,
            store::claim(
                &shared.backend,
                key,
                fingerprint,
                owner.as_bytes(),
                config.lease,
            ),
        )
        .await;
        let lease_remaining = match claim {
            Ok(Claim::Acquired) => return Decision::Run,
            Ok(Claim::Completed(record)) => return Decision::Replay(record),
            Ok(Claim::Mismatch) => {
                crate::metrics::mismatch();
                return Decision::Reject(Cause::Mismatch);
            }
            Ok(Claim::InFlight { lease_remaining }) => lease_remaining,
            Err(e) if e.kind() == BackendErrorKind::Corrupt => {
                tracing::error!(error = %e, "unreadable idempotency entry");
                return Decision::Reject(Cause::UnreadableRecord);
            }
            Err(e) => {
                return match failure_policy::claim_failed(&shared.backend, config, key, owner, &e) {
                    Fallback::RunWithout => Decision::RunWithout,
                    Fallback::Refuse => Decision::Reject(Cause::Unavailable),
                };
            }
        };
        if let Some(deadline) = deadline {
            let now = Instant::now();
            if now < deadline {
                if announcements.is_none() {
                    // Listen first, then look again: an announcement made before we
                    // listened is seen by that second claim.
                    announcements = Some(shared.waiters.listen(&shared.backend).await);
                    continue;
                }
                let rx = announcements.as_mut().and_then(Option::as_mut);
                waiters::wait(rx, key, poll.min(deadline - now)).await;
                poll = (poll * 2).min(MAX_POLL);
                continue;
            }
        }
        crate::metrics::conflict();
        let retry_after = config.retry_after.min(lease_remaining);
        return Decision::Reject(Cause::InFlight { retry_after });
    }
}
