//! Running a claimed request: on its own task (so a client disconnect cannot stop the
//! recording), with the [lease](crate::lease) renewed while the handler runs and its body is
//! read, then recording the outcome under the key before the client gets what is left of the
//! response, and announcing the settled key to waiters.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::FutureExt;
use http::{Request, Response};
use http_body::Body;
use tokio::sync::oneshot;
use tower_service::Service;
use tower_vigil_core::Backend;
use tower_vigil_core::http::ResponseBody;

use crate::body::RequestBody;
use crate::intake::Keyed;
use crate::layer::rejection::Cause;
use crate::layer::response::Answer;
use crate::lease::renew;
use crate::metrics::{op, timed};
use crate::shared::Shared;
use crate::store;
use crate::stream::BoxError;
use crate::tee::{self, Caller, Delivery, Outcome};

/// Runs `req`, whose key this layer holds, and answers with its response.
pub(crate) async fn run<S, B, ReqBody, ResBody>(
    mut inner: S,
    shared: Arc<Shared<B>>,
    req: Keyed<ReqBody>,
) -> Result<Answer<ResBody>, S::Error>
where
    S: Service<Request<RequestBody<ReqBody>>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Backend,
    ResBody: Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError> + Send + 'static,
{
    let Keyed {
        request,
        key,
        owner,
        grpc,
        ..
    } = req;
    let fut = inner.call(request);
    let (caller, head) = oneshot::channel();
    let task = tokio::spawn(drive(fut, shared.clone(), key, owner, caller));
    match head.await {
        Ok(Ok(res)) => Ok(res.map(ResponseBody::inner)),
        Ok(Err(e)) => Err(e),
        // The task ended without answering: it panicked (the key was released on it; let
        // the panic go on as if there were no layer) or the runtime is shutting down (the
        // lease lapses by itself).
        Err(_) => match task.await {
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            _ => Ok(shared.response.reject(Cause::Unavailable, grpc)),
        },
    }
}

/// The handler's task: runs the handler and reads its body with the lease renewed beside,
/// records the outcome, then hands the client the rest of the response.
async fn drive<F, ResBody, E, B>(
    fut: F,
    shared: Arc<Shared<B>>,
    key: String,
    owner: String,
    caller: Caller<ResBody, E>,
) where
    F: Future<Output = Result<Response<ResBody>, E>> + Send,
    ResBody: Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
    B: Backend,
{
    let config = &shared.config;
    let backend = &shared.backend;
    let work = AssertUnwindSafe(async move {
        match fut.await {
            Ok(res) => tee::respond(res, config, caller).await,
            Err(error) => (Outcome::Release, Delivery::Error { to: caller, error }),
        }
    })
    .catch_unwind();
    // Renewal runs beside the handler on this task (no second task to spawn and abort);
    // when it stops (lease lost, maximum hold reached) the handler runs on alone.
    let renewal = renew(backend, &key, &owner, config.lease, config.max_hold);
    tokio::pin!(work, renewal);
    let outcome = tokio::select! {
        outcome = &mut work => outcome,
        () = &mut renewal => work.await,
    };
    let (outcome, delivery) = match outcome {
        Ok(done) => done,
        Err(panic) => {
            release(backend, &key, &owner).await;
            announce(&shared, &key);
            std::panic::resume_unwind(panic);
        }
    };
    let recorded = record(&shared, &key, &owner, outcome).await;
    announce(&shared, &key);
    delivery.deliver(recorded).await;
}

/// Leaves `outcome` under the key; true when the key now holds a record (a retry will not
/// run the handler again).
async fn record<B: Backend>(shared: &Shared<B>, key: &str, owner: &str, outcome: Outcome) -> bool {
    let (backend, config) = (&shared.backend, &shared.config);
    let record = match outcome {
        Outcome::Release => {
            release(backend, key, owner).await;
            return false;
        }
        Outcome::Record(record) => record,
    };
    match timed(
        op::COMPLETE,
        store::complete(backend, key, owner.as_bytes(), &record, config.ttl),
    )
    .await
    {
        Ok(true) => {
            crate::metrics::stored();
            true
        }
        Ok(false) => {
            tracing::warn!("idempotency lease lost before completion; outcome not stored");
            false
        }
        Err(e) => {
            crate::metrics::backend_error(config.failure_policy, &e);
            tracing::warn!(error = %e, "storing the idempotent outcome failed; freeing the key");
            // Best effort: if the write did land, the record is kept (release only
            // deletes an in-flight marker); if the store is down, the lease lapses.
            release(backend, key, owner).await;
            false
        }
    }
}

async fn release<B: Backend>(backend: &B, key: &str, owner: &str) {
    if let Err(e) = timed(op::RELEASE, store::release(backend, key, owner.as_bytes())).await {
        tracing::warn!(error = %e, "releasing an idempotency key failed; its lease will lapse");
    }
}

/// Wakes the duplicates waiting on `key` (when waiting is on), without delaying this
/// response for the extra round trip.
fn announce<B: Backend>(shared: &Arc<Shared<B>>, key: &str) {
    if shared.config.wait_for_in_flight.is_none() {
        return;
    }
    let backend = shared.backend.clone();
    let key = key.to_owned();
    tokio::spawn(async move {
        if let Err(e) = timed(op::ANNOUNCE, store::announce(&backend, &key)).await {
            tracing::debug!(error = %e, "announcing a settled idempotency key failed");
        }
    });
}
