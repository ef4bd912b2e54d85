//! Running a claimed request: on its own task (so a client disconnect cannot stop the
//! recording), with the lease renewed while it runs, then storing or releasing.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt;
use http::{Request, Response};
use http_body::Body;
use tokio::time::Instant;
use tower_service::Service;
use tower_vigil_core::http::ResponseBody;

use crate::body::RequestBody;
use crate::capture::{self, Captured};
use crate::flow::{Answer, reject};
use crate::record::StoredResponse;
use crate::response::{Rejection, ResponseForRejection};
use crate::service::Shared;
use crate::store::IdempotencyStore;

/// What the handler task hands back: the response head, its captured body, and whether it
/// was stored.
type Executed<B> = (http::response::Parts, Captured<B>, bool);

pub(crate) async fn run<S, St, R, ReqBody, ResBody>(
    mut inner: S,
    shared: Arc<Shared<St, R>>,
    req: Request<RequestBody<ReqBody>>,
    key: String,
    owner: String,
    grpc: bool,
) -> Result<Answer<ResBody>, S::Error>
where
    S: Service<Request<RequestBody<ReqBody>>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    St: IdempotencyStore,
    R: ResponseForRejection,
    ResBody: Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Send + 'static,
{
    let fut = inner.call(req);
    let task = tokio::spawn(finish(fut, shared.clone(), key, owner));
    match task.await {
        Ok(Ok((parts, captured, stored))) => {
            let mut res = Response::from_parts(parts, ResponseBody::inner(captured.into_body()));
            if !stored {
                capture::mark_not_stored(res.headers_mut());
            }
            Ok(res)
        }
        Ok(Err(e)) => Err(e),
        // The key was released on the task; let the panic go on as if there were no layer.
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // The runtime is shutting down; the lease lapses by itself.
        Err(_) => Ok(reject(&shared, Rejection::Unavailable, grpc)),
    }
}

async fn finish<F, B, E, St, R>(
    fut: F,
    shared: Arc<Shared<St, R>>,
    key: String,
    owner: String,
) -> Result<Executed<B>, E>
where
    F: Future<Output = Result<Response<B>, E>> + Send,
    B: Body<Data = Bytes> + Send,
    St: IdempotencyStore,
{
    let config = &shared.config;
    let store = &shared.store;
    let limit = config.max_response_body;
    let work = AssertUnwindSafe(async move {
        let res = fut.await?;
        let (parts, body) = res.into_parts();
        Ok((parts, capture::collect(body, limit).await))
    })
    .catch_unwind();
    // Renewal runs beside the handler on this task (no second task to spawn and abort);
    // when it stops (lease lost, maximum hold reached) the handler runs on alone.
    let renewal = renew(store, &key, &owner, config.lease, config.max_hold);
    tokio::pin!(work, renewal);
    let outcome = tokio::select! {
        outcome = &mut work => outcome,
        () = &mut renewal => work.await,
    };

    let (parts, captured) = match outcome {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => {
            release(store, &key, &owner).await;
            announce(&shared, &key);
            return Err(e);
        }
        Err(panic) => {
            release(store, &key, &owner).await;
            announce(&shared, &key);
            std::panic::resume_unwind(panic);
        }
    };
    let stored = match &captured {
        Captured::Complete { data, trailers } if capture::storable(&parts, trailers.as_ref()) => {
            let record = StoredResponse::new(
                parts.status,
                capture::stored_headers(&parts.headers),
                data.clone(),
            )
            .with_trailers(trailers.clone());
            let written = store
                .complete(&key, owner.as_bytes(), record.encode(), config.ttl)
                .await;
            match written {
                Ok(true) => {
                    crate::metrics::stored();
                    true
                }
                Ok(false) => {
                    tracing::warn!("idempotency lease lost before completion; response not stored");
                    false
                }
                Err(e) => {
                    crate::metrics::backend_error(config.failure_policy);
                    tracing::warn!(error = %e, "storing the idempotent response failed; freeing the key");
                    // Best effort: if the write did land, the record is kept (release only
                    // deletes an in-flight marker); if the store is down, the lease lapses.
                    release(store, &key, &owner).await;
                    false
                }
            }
        }
        _ => {
            release(store, &key, &owner).await;
            false
        }
    };
    announce(&shared, &key);
    Ok((parts, captured, stored))
}

async fn release<St: IdempotencyStore>(store: &St, key: &str, owner: &str) {
    if let Err(e) = store.release(key, owner.as_bytes()).await {
        tracing::warn!(error = %e, "releasing an idempotency key failed; its lease will lapse");
    }
}

/// Wakes the duplicates waiting on `key` (when waiting is on), without delaying this
/// response for the extra round trip.
fn announce<St: IdempotencyStore, R>(shared: &Arc<Shared<St, R>>, key: &str) {
    if shared.config.wait_for_in_flight.is_none() {
        return;
    }
    let store = shared.store.clone();
    let key = key.to_owned();
    tokio::spawn(async move {
        if let Err(e) = store.announce(&key).await {
            tracing::debug!(error = %e, "announcing a settled idempotency key failed");
        }
    });
}

/// Renews the lease every third of its length, for at most `max_hold` in all: the last
/// renewal is cut so the key frees at `max_hold` even if the handler hangs. Returns when it
/// stops renewing; dropped (with the handler's end) otherwise.
async fn renew<St: IdempotencyStore>(
    store: &St,
    key: &str,
    owner: &str,
    lease: Duration,
    max_hold: Duration,
) {
    let stop_at = Instant::now() + max_hold;
    loop {
        tokio::time::sleep(lease / 3).await;
        let left = stop_at.saturating_duration_since(Instant::now());
        if left < Duration::from_millis(1) {
            tracing::warn!("idempotent handler exceeded its maximum hold; lease not renewed");
            return;
        }
        match store.extend(key, owner.as_bytes(), lease.min(left)).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!("idempotency lease lost while the handler runs");
                return;
            }
            // A failed renewal is retried next tick; the lease may still hold.
            Err(e) => tracing::debug!(error = %e, "renewing an idempotency lease failed"),
        }
    }
}
