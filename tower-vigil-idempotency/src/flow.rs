//! The path of one request through the layer: key, scope, body, claim, then run, replay,
//! wait or reject.

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tokio::time::Instant;
use tower_service::Service;
use tower_vigil_core::http::{ResponseBody, is_grpc};
use tower_vigil_core::secret::random_token;
use tower_vigil_core::{BackendErrorKind, FailurePolicy};

use crate::body::{IdempotencyBody, RequestBody};
use crate::capture;
use crate::fingerprint::{Fingerprint, store_key};
use crate::key::IdempotencyKey;
use crate::metrics::{op, timed};
use crate::record::Record;
use crate::response::{Rejection, ResponseForRejection};
use crate::shared::{Answer, Shared, reject};
use crate::store::{Claim, IdempotencyStore};
use crate::waiters;

/// Polling for a request in flight starts at this interval and doubles up to `MAX_POLL`.
const FIRST_POLL: Duration = Duration::from_millis(20);
const MAX_POLL: Duration = Duration::from_millis(500);

pub(crate) async fn handle<S, St, R, ReqBody, ResBody>(
    inner: S,
    shared: Arc<Shared<St, R>>,
    req: Request<ReqBody>,
) -> Result<Answer<ResBody>, S::Error>
where
    S: Service<Request<RequestBody<ReqBody>>, Response = Response<ResBody>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    St: IdempotencyStore,
    R: ResponseForRejection,
    ReqBody: Body<Data = Bytes> + Send + 'static,
    ReqBody::Error: Into<Box<dyn StdError + Send + Sync>>,
    ResBody: Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<crate::stream::BoxError> + Send + 'static,
{
    let config = &shared.config;
    if !config.applies_to(req.method()) {
        return pass(inner, req.map(RequestBody::streaming)).await;
    }
    let grpc = is_grpc(req.headers());
    let key = match IdempotencyKey::from_headers(req.headers()) {
        Ok(Some(key)) => key,
        Ok(None) if config.required => return Ok(reject(&shared, Rejection::MissingKey, grpc)),
        Ok(None) => return pass(inner, req.map(RequestBody::streaming)).await,
        Err(e) => return Ok(reject(&shared, Rejection::InvalidKey(e), grpc)),
    };
    let (parts, body) = req.into_parts();
    let Some(scope) = config.scope_of(&parts) else {
        // Refused, not shared: without a scope, one caller could replay another's response.
        tracing::debug!(
            "keyed request without a principal or scope refused; put an authentication layer \
             that publishes a Principal in front of the idempotency layer"
        );
        return Ok(reject(&shared, Rejection::Unscoped, grpc));
    };
    let body = match buffer(body, config.max_request_body).await {
        Ok(body) => body,
        Err(rejection) => return Ok(reject(&shared, rejection, grpc)),
    };
    let fingerprint = Fingerprint::of(&parts.method, parts.uri.path(), parts.uri.query(), &body);
    let key = store_key(&scope, key.as_str());
    let owner = random_token(16);
    let req = Request::from_parts(parts, RequestBody::buffered(body));

    let deadline = config.wait_for_in_flight.map(|w| Instant::now() + w);
    let mut poll = FIRST_POLL;
    let mut announcements = None;
    loop {
        let claim = crate::metrics::timed(
            crate::metrics::op::CLAIM,
            shared
                .store
                .claim(&key, &fingerprint, owner.as_bytes(), config.lease),
        )
        .await;
        match claim {
            Ok(Claim::Acquired) => {
                return crate::execute::run(inner, shared.clone(), req, key, owner, grpc).await;
            }
            Ok(Claim::Completed(bytes)) => return Ok(replay(&shared, &bytes, grpc)),
            Ok(Claim::Mismatch) => {
                crate::metrics::mismatch();
                return Ok(reject(&shared, Rejection::Mismatch, grpc));
            }
            Ok(Claim::InFlight { lease_remaining }) => {
                if let Some(deadline) = deadline {
                    let now = Instant::now();
                    if now < deadline {
                        if announcements.is_none() {
                            // Listen first, then look again: an announcement made before
                            // we listened is seen by that second claim.
                            announcements = Some(shared.waiters.listen(&shared.store).await);
                            continue;
                        }
                        let rx = announcements.as_mut().and_then(Option::as_mut);
                        waiters::wait(rx, &key, poll.min(deadline - now)).await;
                        poll = (poll * 2).min(MAX_POLL);
                        continue;
                    }
                }
                crate::metrics::conflict();
                let retry_after = config.retry_after.min(lease_remaining);
                return Ok(reject(&shared, Rejection::InFlight { retry_after }, grpc));
            }
            Err(e) if e.kind() == BackendErrorKind::Corrupt => {
                tracing::error!(error = %e, "unreadable idempotency entry");
                return Ok(reject(&shared, Rejection::UnreadableRecord, grpc));
            }
            Err(e) => {
                release_unknown_claim(&shared.store, &key, &owner);
                crate::metrics::backend_error(config.failure_policy, &e);
                if config.failure_policy == FailurePolicy::Open {
                    tracing::warn!(error = %e, "idempotency store failed; running the request without it");
                    return pass(inner, req).await;
                }
                tracing::warn!(error = %e, "idempotency store failed; answering 503");
                return Ok(reject(&shared, Rejection::Unavailable, grpc));
            }
        }
    }
}

/// A claim that failed (a timeout, a dropped connection) may still have landed, or land when
/// a stalled request reaches Redis late: its marker would hold the key for a whole lease with
/// nobody running the request, and every retry would get 409. Releasing by this claim's owner
/// token undoes it: sent on the same connection, it runs after the claim, and it never deletes
/// a completed record. Without a runtime (or if this fails too) the lease lapses.
fn release_unknown_claim<St: IdempotencyStore>(store: &St, key: &str, owner: &str) {
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let (store, key, owner) = (store.clone(), key.to_owned(), owner.to_owned());
    handle.spawn(async move {
        if let Err(e) = timed(op::RELEASE, store.release(&key, owner.as_bytes())).await {
            tracing::warn!(error = %e, "releasing a failed idempotency claim failed; its lease will lapse");
        }
    });
}

/// Runs the request without idempotency.
pub(crate) async fn pass<S, ReqBody, ResBody>(
    mut inner: S,
    req: Request<RequestBody<ReqBody>>,
) -> Result<Answer<ResBody>, S::Error>
where
    S: Service<Request<RequestBody<ReqBody>>, Response = Response<ResBody>>,
    ResBody: Body,
{
    let res = inner.call(req).await?;
    Ok(res.map(|b| ResponseBody::inner(IdempotencyBody::inner(b))))
}

fn replay<St, R: ResponseForRejection, B: Body>(
    shared: &Shared<St, R>,
    bytes: &[u8],
    grpc: bool,
) -> Answer<B> {
    match Record::decode(bytes) {
        Ok(Record::Response(record)) => {
            crate::metrics::replay();
            capture::replay(*record).map(ResponseBody::inner)
        }
        Ok(Record::NotReplayable(outcome)) => {
            crate::metrics::not_replayable();
            let rejection = Rejection::NotReplayable {
                status: outcome.status,
                reason: outcome.reason,
            };
            reject(shared, rejection, grpc)
        }
        Err(e) => {
            // Never run the request again: it already ran once.
            tracing::error!(error = %e, "unreadable idempotency record");
            reject(shared, Rejection::UnreadableRecord, grpc)
        }
    }
}

async fn buffer<B>(body: B, limit: usize) -> Result<Bytes, Rejection>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    if body.size_hint().lower() > limit as u64 {
        return Err(Rejection::BodyTooLarge { limit });
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(Rejection::BodyTooLarge { limit })
        }
        Err(_) => Err(Rejection::BodyUnreadable),
    }
}
