//! The path of one request through the layer, step by step: the [intake](crate::intake)
//! (key, scope, body), the [decision](crate::decision) (claim, wait), then run it
//! ([`execute`](crate::execute)), [`replay`](crate::replay) a record, reject, or pass it on.

use std::error::Error as StdError;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use tower_service::Service;
use tower_vigil_core::Backend;
use tower_vigil_core::http::ResponseBody;

use crate::body::{IdempotencyBody, RequestBody};
use crate::decision::{Decision, decide};
use crate::intake::{Intake, admit};
use crate::layer::response::Answer;
use crate::shared::Shared;
use crate::stream::BoxError;

pub(crate) async fn handle<S, B, ReqBody, ResBody>(
    inner: S,
    shared: Arc<Shared<B>>,
    req: Request<ReqBody>,
) -> Result<Answer<ResBody>, S::Error>
where
    S: Service<Request<RequestBody<ReqBody>>, Response = Response<ResBody>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Backend,
    ReqBody: Body<Data = Bytes> + Send + 'static,
    ReqBody::Error: Into<Box<dyn StdError + Send + Sync>>,
    ResBody: Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError> + Send + 'static,
{
    let keyed = match admit(&shared.config, req).await {
        Intake::Pass(req) => return pass(inner, req).await,
        Intake::Reject { cause, grpc } => return Ok(shared.response.reject(cause, grpc)),
        Intake::Keyed(keyed) => keyed,
    };
    let grpc = keyed.grpc;
    match decide(&shared, &keyed.key, &keyed.fingerprint, &keyed.owner).await {
        Decision::Run => crate::execute::run(inner, shared, keyed).await,
        Decision::Replay(record) => Ok(match crate::replay::replay(&record) {
            Ok(res) => res.map(ResponseBody::inner),
            Err(cause) => shared.response.reject(cause, grpc),
        }),
        Decision::Reject(cause) => Ok(shared.response.reject(cause, grpc)),
        Decision::RunWithout => pass(inner, keyed.request).await,
    }
}

/// Runs the request without idempotency.
async fn pass<S, ReqBody, ResBody>(
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
