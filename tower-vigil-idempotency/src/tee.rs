//! What the handler's task does with the response: decide at its head whether it can be
//! stored before it is sent, then either capture it whole first or forward it frame by frame
//! while teeing it into the capture buffer. The result is what to record under the key
//! ([`Outcome`]) and what is still owed to the client once it is recorded ([`Delivery`]).

use std::pin::pin;

use bytes::{Bytes, BytesMut};
use http::response::Parts;
use http::{HeaderMap, Response};
use http_body::Body;
use http_body_util::BodyExt;
use tokio::sync::oneshot;

use crate::body::IdempotencyBody;
use crate::capture::{self, Captured};
use crate::config::{Config, ServerErrors};
use crate::record::{NotReplayable, NotReplayableReason, StoredResponse};
use crate::stream::BoxError;

#[cfg(doc)]
use crate::record::Record;
use crate::stream::{self, Forward};

/// Where the caller waits for the response head (or the service's error).
pub(crate) type Caller<B, E> = oneshot::Sender<Result<Response<IdempotencyBody<B>>, E>>;

/// What to leave under the key once the response is known.
pub(crate) enum Outcome {
    /// Replace the in-flight marker by this encoded [`Record`] (a response, or a
    /// not-replayable outcome).
    Record(Bytes),
    /// Delete the in-flight marker so a retry runs again.
    Release,
}

/// What the client is still owed once the outcome is recorded.
pub(crate) enum Delivery<B: Body, E> {
    /// The whole answer; marked `Idempotency-Status: not-stored` if nothing was recorded.
    Answer {
        to: Caller<B, E>,
        res: Response<IdempotencyBody<B>>,
    },
    /// The inner service's error.
    Error { to: Caller<B, E>, error: E },
    /// The head and the data went out already: the end of the stream (its trailers, marked
    /// if nothing was recorded), or the body's error.
    Stream {
        forward: Forward,
        trailers: Option<HeaderMap>,
        error: Option<BoxError>,
    },
}

impl<B: Body, E> Delivery<B, E> {
    /// Hands the client what is left. `recorded` says whether the key now holds a record.
    pub(crate) async fn deliver(self, recorded: bool) {
        match self {
            Self::Answer { to, mut res } => {
                if !recorded {
                    capture::mark_not_stored(res.headers_mut());
                }
                let _ = to.send(Ok(res));
            }
            Self::Error { to, error } => {
                let _ = to.send(Err(error));
            }
            Self::Stream {
                forward,
                error: Some(error),
                ..
            } => forward.fail(error).await,
            Self::Stream {
                forward,
                mut trailers,
                error: None,
            } => {
                if let (false, Some(t)) = (recorded, trailers.as_mut()) {
                    capture::mark_not_stored(t);
                }
                forward.end(trailers).await;
            }
        }
    }
}

/// Captures or forwards `res`, as its head allows.
pub(crate) async fn respond<B, E>(
    res: Response<B>,
    config: &Config,
    to: Caller<B, E>,
) -> (Outcome, Delivery<B, E>)
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let (parts, body) = res.into_parts();
    let release_failures = config.server_errors == ServerErrors::Release;
    if release_failures && parts.status.is_server_error() {
        // Known from the head: free the key now and pass the body through untouched.
        let res = Response::from_parts(parts, IdempotencyBody::inner(body));
        return (Outcome::Release, Delivery::Answer { to, res });
    }
    let limit = config.max_response_body;
    if body.size_hint().exact().is_some_and(|n| n <= limit as u64) {
        // Small and of known size: stored before it is sent, so the head can say whether
        // it was, and a retry that follows the response is always replayed.
        return buffered(parts, body, config, to).await;
    }
    streamed(parts, body, config, to).await
}

async fn buffered<B, E>(
    parts: Parts,
    body: B,
    config: &Config,
    to: Caller<B, E>,
) -> (Outcome, Delivery<B, E>)
where
    B: Body<Data = Bytes>,
{
    let captured = capture::collect(body, config.max_response_body).await;
    let outcome = match &captured {
        Captured::Complete { data, trailers } => complete(&parts, data, trailers.as_ref(), config),
        // The size hint was wrong: the rest streams to the client from its own task.
        Captured::Partial { .. } => not_replayable(&parts, NotReplayableReason::TooLarge),
        Captured::Failed { .. } => not_replayable(&parts, NotReplayableReason::BodyFailed),
    };
    let res = Response::from_parts(parts, captured.into_body());
    (outcome, Delivery::Answer { to, res })
}

async fn streamed<B, E>(
    parts: Parts,
    body: B,
    config: &Config,
    to: Caller<B, E>,
) -> (Outcome, Delivery<B, E>)
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let limit = config.max_response_body;
    let (mut forward, client) = stream::channel(body.size_hint());
    // A client gone already drops its side here: `forward` notices on the first frame.
    let _ = to.send(Ok(Response::from_parts(
        parts.clone(),
        IdempotencyBody::streamed(client),
    )));
    let mut body = pin!(body);
    // `None` once the body outgrew the limit: from then on it is only forwarded.
    let mut tee = (body.size_hint().lower() <= limit as u64).then(BytesMut::new);
    let mut trailers: Option<HeaderMap> = None;
    loop {
        let frame = match body.frame().await {
            None => break,
            Some(Ok(frame)) => frame,
            Some(Err(error)) => {
                let outcome = not_replayable(&parts, NotReplayableReason::BodyFailed);
                let error = Some(error.into());
                return (
                    outcome,
                    Delivery::Stream {
                        forward,
                        trailers,
                        error,
                    },
                );
            }
        };
        let frame = match frame.into_trailers() {
            // Held back until the outcome is recorded: they end the stream.
            Ok(t) => {
                trailers.get_or_insert_with(HeaderMap::new).extend(t);
                continue;
            }
            Err(frame) => frame,
        };
        if let (Some(buf), Some(chunk)) = (tee.as_mut(), frame.data_ref()) {
            if buf.len() + chunk.len() > limit {
                tee = None;
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        forward.send(frame).await;
        if forward.client_gone() && tee.is_none() {
            // Nobody reads it and it cannot be stored: stop reading the handler's body.
            let outcome = not_replayable(&parts, NotReplayableReason::TooLarge);
            return (
                outcome,
                Delivery::Stream {
                    forward,
                    trailers,
                    error: None,
                },
            );
        }
    }
    let outcome = match tee {
        Some(data) => complete(&parts, &data.freeze(), trailers.as_ref(), config),
        None if config.server_errors == ServerErrors::Release
            && capture::server_failed(&parts, trailers.as_ref()) =>
        {
            Outcome::Release
        }
        None => not_replayable(&parts, NotReplayableReason::TooLarge),
    };
    let error = None;
    (
        outcome,
        Delivery::Stream {
            forward,
            trailers,
            error,
        },
    )
}

/// The outcome of a response read to its end within the limit.
fn complete(parts: &Parts, data: &Bytes, trailers: Option<&HeaderMap>, config: &Config) -> Outcome {
    if config.server_errors == ServerErrors::Release && capture::server_failed(parts, trailers) {
        return Outcome::Release;
    }
    let headers = capture::stored_headers(&parts.headers);
    let record =
        StoredResponse::new(parts.status, headers, data.clone()).with_trailers(trailers.cloned());
    Outcome::Record(record.encode())
}

fn not_replayable(parts: &Parts, reason: NotReplayableReason) -> Outcome {
    Outcome::Record(NotReplayable::new(parts.status, reason).encode())
}
