//! Answering from a completed record: the stored response (status, headers, body, trailers)
//! marked `Idempotent-Replayed: true`, or, for a request that ran but whose response could not
//! be kept, a rejection. A record that cannot be read is a rejection too: the request already
//! ran once, so it never runs again.

use http::{HeaderName, HeaderValue, Response};
use http_body::Body;

use crate::body::IdempotencyBody;
use crate::layer::rejection::Cause;
use crate::record::{Record, StoredResponse};

/// `Idempotent-Replayed: true` marks a replayed response.
pub static IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The answer to a request whose key holds the encoded record `bytes`.
pub(crate) fn replay<B: Body>(bytes: &[u8]) -> Result<Response<IdempotencyBody<B>>, Cause> {
    match Record::decode(bytes) {
        Ok(Record::Response(record)) => {
            crate::metrics::replay();
            Ok(response(*record))
        }
        Ok(Record::NotReplayable(outcome)) => {
            crate::metrics::not_replayable();
            Err(Cause::NotReplayable {
                status: outcome.status,
                reason: outcome.reason,
            })
        }
        Err(e) => {
            tracing::error!(error = %e, "unreadable idempotency record");
            Err(Cause::UnreadableRecord)
        }
    }
}

/// The response to a replay of `record`.
fn response<B: Body>(record: StoredResponse) -> Response<IdempotencyBody<B>> {
    let mut res = Response::new(IdempotencyBody::complete(record.body, record.trailers));
    *res.status_mut() = record.status;
    *res.headers_mut() = record.headers;
    res.headers_mut()
        .insert(&IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    res
}
