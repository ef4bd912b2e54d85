//! The first step of a request through the layer: is it the layer's business, and if so its
//! key, scope, buffered body and fingerprint, or the rejection that stops it here.

use std::error::Error as StdError;

use bytes::Bytes;
use http::Request;
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tower_vigil_core::http::is_grpc;
use tower_vigil_core::secret::random_token;

use crate::body::RequestBody;
use crate::config::Config;
use crate::fingerprint::Fingerprint;
use crate::key::IdempotencyKey;
use crate::layer::rejection::Cause;
use crate::scope::scope_of;
use crate::store::keys::record_key;

/// What the intake made of a request.
pub(crate) enum Intake<B> {
    /// Not the layer's business (another method, or no key where it is optional): run it as
    /// it is, its body streaming.
    Pass(Request<RequestBody<B>>),
    /// Refused before any store call.
    Reject {
        /// Why.
        cause: Cause,
        /// Whether the request is a gRPC call (decided once, here).
        grpc: bool,
    },
    /// A keyed request, ready to claim its key.
    Keyed(Keyed<B>),
}

/// A keyed request, its body buffered, with what claiming its key needs.
pub(crate) struct Keyed<B> {
    /// The request, its body buffered.
    pub(crate) request: Request<RequestBody<B>>,
    /// Its record key in the store.
    pub(crate) key: String,
    /// Its fingerprint.
    pub(crate) fingerprint: Fingerprint,
    /// The owner token its in-flight marker will carry.
    pub(crate) owner: String,
    /// Whether it is a gRPC call.
    pub(crate) grpc: bool,
}

/// Reads the key, the scope and the body of `req`.
pub(crate) async fn admit<B>(config: &Config, req: Request<B>) -> Intake<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    if !config.applies_to(req.method()) {
        return Intake::Pass(req.map(RequestBody::streaming));
    }
    let grpc = is_grpc(req.headers());
    let reject = |cause| Intake::Reject { cause, grpc };
    let key = match IdempotencyKey::from_headers(req.headers()) {
        Ok(Some(key)) => key,
        Ok(None) if config.required => return reject(Cause::MissingKey),
        Ok(None) => return Intake::Pass(req.map(RequestBody::streaming)),
        Err(e) => return reject(Cause::InvalidKey(e)),
    };
    let (parts, body) = req.into_parts();
    let Some(scope) = scope_of(config.scope.as_ref(), config.unscoped, &parts) else {
        // Refused, not shared: without a scope, one caller could replay another's response.
        tracing::debug!(
            "keyed request without a principal or scope refused; put an authentication layer \
             that publishes a Principal in front of the idempotency layer"
        );
        return reject(Cause::Unscoped);
    };
    let body = match buffer(body, config.max_request_body).await {
        Ok(body) => body,
        Err(cause) => return reject(cause),
    };
    let fingerprint = Fingerprint::of(&parts.method, parts.uri.path(), parts.uri.query(), &body);
    Intake::Keyed(Keyed {
        request: Request::from_parts(parts, RequestBody::buffered(body)),
        key: record_key(&scope, key.as_str()),
        fingerprint,
        owner: random_token(16),
        grpc,
    })
}

/// The whole body, up to `limit` bytes.
async fn buffer<B>(body: B, limit: usize) -> Result<Bytes, Cause>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    if body.size_hint().lower() > limit as u64 {
        return Err(Cause::BodyTooLarge { limit });
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(Cause::BodyTooLarge { limit })
        }
        Err(_) => Err(Cause::BodyUnreadable),
    }
}
