//! gRPC unary calls: the key from `idempotency-key` metadata, trailers (where gRPC keeps its
//! status) captured and replayed, server failures replayed (or freed when asked), rejections
//! as gRPC statuses.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::Frame;
use http_body_util::{BodyExt, Full, StreamBody};
use tower::ServiceExt;
use tower_vigil_core::{MemoryBackend, Principal};
use tower_vigil_idempotency::{IdempotencyLayer, RequestBody, ServerErrors};

type GrpcBody =
    StreamBody<futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>>;

/// A unary gRPC handler answering with one message and `grpc-status` in the trailers: the
/// status is the request body (as text).
fn grpc_handler(
    runs: Arc<AtomicUsize>,
) -> impl tower::Service<
    Request<RequestBody<Full<Bytes>>>,
    Response = Response<GrpcBody>,
    Error = Infallible,
    Future = impl Send,
> + Clone
+ Send
+ 'static {
    tower::service_fn(move |req: Request<RequestBody<Full<Bytes>>>| {
        let runs = runs.clone();
        async move {
            let n = runs.fetch_add(1, Ordering::SeqCst) + 1;
            let body = req.into_body().collect().await.unwrap().to_bytes();
            let status = String::from_utf8_lossy(&body).into_owned();
            let mut trailers = HeaderMap::new();
            trailers.insert("grpc-status", HeaderValue::from_str(&status).unwrap());
            let frames = vec![
                Ok(Frame::data(Bytes::from(format!("reply {n}")))),
                Ok(Frame::trailers(trailers)),
            ];
            let mut res = Response::new(StreamBody::new(futures_util::stream::iter(frames)));
            res.headers_mut()
                .insert("content-type", HeaderValue::from_static("application/grpc"));
            Ok::<_, Infallible>(res)
        }
    })
}

fn call(key: &str, status: &'static str) -> Request<Full<Bytes>> {
    Request::post("/pkg.Orders/Create")
        .header("content-type", "application/grpc")
        .header("idempotency-key", key)
        .extension(Principal::user("caller"))
        .body(Full::new(Bytes::from_static(status.as_bytes())))
        .unwrap()
}

async fn collect<B: http_body::Body<Data = Bytes>>(
    res: Response<B>,
) -> (http::response::Parts, Bytes, Option<HeaderMap>)
where
    B::Error: std::fmt::Debug,
{
    let (parts, body) = res.into_parts();
    let collected = body.collect().await.unwrap();
    let trailers = collected.trailers().cloned();
    (parts, collected.to_bytes(), trailers)
}

#[tokio::test]
async fn unary_calls_are_replayed_with_their_trailers() {
    let runs = Arc::new(AtomicUsize::new(0));
    let svc = tower::ServiceBuilder::new()
        .layer(IdempotencyLayer::new(MemoryBackend::new()))
        .service(grpc_handler(runs.clone()));
    let (_, body, trailers) = collect(svc.clone().oneshot(call("k", "0")).await.unwrap()).await;
    assert_eq!(body, "reply 1");
    assert_eq!(trailers.unwrap()["grpc-status"], "0");
    let (parts, body, trailers) = collect(svc.clone().oneshot(call("k", "0")).await.unwrap()).await;
    assert_eq!(parts.headers["idempotent-replayed"], "true");
    assert_eq!(body, "reply 1");
    assert_eq!(trailers.unwrap()["grpc-status"], "0");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn server_failures_are_replayed_by_default() {
    let runs = Arc::new(AtomicUsize::new(0));
    let svc = tower::ServiceBuilder::new()
        .layer(IdempotencyLayer::new(MemoryBackend::new()))
        .service(grpc_handler(runs.clone()));
    collect(svc.clone().oneshot(call("k", "14")).await.unwrap()).await;
    let (parts, body, trailers) =
        collect(svc.clone().oneshot(call("k", "14")).await.unwrap()).await;
    assert_eq!(parts.headers["idempotent-replayed"], "true");
    assert_eq!(body, "reply 1");
    assert_eq!(trailers.unwrap()["grpc-status"], "14");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn released_server_failures_and_rejections_are_grpc_statuses() {
    let runs = Arc::new(AtomicUsize::new(0));
    let svc = tower::ServiceBuilder::new()
        .layer(
            IdempotencyLayer::builder(MemoryBackend::new())
                .server_errors(ServerErrors::Release)
                .build()
                .unwrap(),
        )
        .service(grpc_handler(runs.clone()));
    // UNAVAILABLE (14) from the handler: not stored, the retry runs. The status is only known
    // from the trailers, after the head went out: the trailers say it was not stored.
    for _ in 0..2 {
        let (_, _, trailers) = collect(svc.clone().oneshot(call("k", "14")).await.unwrap()).await;
        let trailers = trailers.unwrap();
        assert_eq!(trailers["idempotency-status"], "not-stored");
        assert_eq!(trailers["grpc-status"], "14");
    }
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    // A malformed key: INVALID_ARGUMENT, in a trailers-only response.
    let (parts, _, _) = collect(svc.clone().oneshot(call("\"", "0")).await.unwrap()).await;
    assert_eq!(parts.status, 200);
    assert_eq!(parts.headers["grpc-status"], "3");
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}
