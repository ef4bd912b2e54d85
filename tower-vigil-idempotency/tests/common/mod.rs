//! Shared by the test binaries: the backends, a handler that counts its executions, and a
//! macro running one generic async test on memory, Redis, the 3-master cluster and Sentinel.
#![allow(dead_code, unreachable_pub)]

pub mod failing;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use tower::ServiceExt;
use tower::util::BoxCloneService;
use tower_vigil_core::http::ResponseBody;
use tower_vigil_core::{Backend, Principal};
use tower_vigil_idempotency::{
    IdempotencyBody, IdempotencyLayer, IdempotencyRejection, IdempotencyRejectionKind,
    NotReplayableReason, RequestBody,
};

/// Generates `memory`, `redis`, `cluster` and `sentinel` tests calling `$case(store)`. Memory runs on a
/// paused clock (time advances when the test is idle); Redis runs on real time.
#[macro_export]
macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test(start_paused = true)]
            async fn memory() {
                super::$case(tower_vigil_tests::fixtures::memory()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn redis() {
                super::$case(tower_vigil_tests::fixtures::redis().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn cluster() {
                super::$case(tower_vigil_tests::fixtures::cluster().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sentinel() {
                super::$case(tower_vigil_tests::fixtures::sentinel().await).await;
            }
        }
    )*};
}

pub type Req = Request<Full<Bytes>>;
pub type Svc = BoxCloneService<Req, Response<Bytes>, Infallible>;

/// Counts executions of the handler.
#[derive(Clone, Default)]
pub struct Counter(Arc<AtomicUsize>);

impl Counter {
    /// Counts one execution.
    pub fn bump(&self) -> usize {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }

    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// The handler behind the layer, chosen by path:
/// `/ok` 201 echoing the body (with `Set-Cookie` and `X-Run` headers), `/slow` the same after
/// 200 ms, `/fail` 500, `/slowfail` 500 after 200 ms, `/big` a 4 KiB body, `/panic` panics, `/hang` never answers.
pub fn handler(
    counter: Counter,
) -> impl tower::Service<
    Request<RequestBody<Full<Bytes>>>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Send,
> + Clone
+ Send
+ 'static {
    tower::service_fn(move |req: Request<RequestBody<Full<Bytes>>>| {
        let counter = counter.clone();
        async move {
            let run = counter.0.fetch_add(1, Ordering::SeqCst) + 1;
            let path = req.uri().path().to_owned();
            let body = req.into_body().collect().await.unwrap().to_bytes();
            let status = match path.as_str() {
                "/slow" => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    StatusCode::CREATED
                }
                "/fail" => StatusCode::INTERNAL_SERVER_ERROR,
                "/slowfail" => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    StatusCode::INTERNAL_SERVER_ERROR
                }
                "/panic" => panic!("handler panicked on purpose"),
                "/hang" => std::future::pending().await,
                _ => StatusCode::CREATED,
            };
            let body = if path == "/big" {
                Bytes::from(vec![b'x'; 4096])
            } else {
                body
            };
            let mut res = Response::new(Full::new(body));
            *res.status_mut() = status;
            res.headers_mut()
                .insert("set-cookie", HeaderValue::from_static("sid=secret"));
            res.headers_mut()
                .insert("x-run", HeaderValue::from(run as u64));
            Ok::<_, Infallible>(res)
        }
    })
}

/// The layer over [`handler`], with the response body collected for easy assertions.
pub fn service<B: Backend>(layer: IdempotencyLayer<B>, counter: Counter) -> Svc {
    let svc = tower::ServiceBuilder::new()
        .layer(layer)
        .service(handler(counter))
        .and_then(
            |res: Response<ResponseBody<IdempotencyBody<Full<Bytes>>>>| async move {
                let (parts, body) = res.into_parts();
                let bytes = body
                    .collect()
                    .await
                    .map(|c| c.to_bytes())
                    .unwrap_or_default();
                Ok::<_, Infallible>(Response::from_parts(parts, bytes))
            },
        );
    BoxCloneService::new(svc)
}

/// The user every request of [`post`] comes from.
pub const TESTER: &str = "tester";

/// A request to `path` with `Idempotency-Key: "key"` and `body`, from [`TESTER`] (a
/// [`Principal`] in its extensions, as an authentication layer would put it).
pub fn post(path: &str, key: &str, body: &'static str) -> Req {
    let mut req = anonymous_post(path, key, body);
    req.extensions_mut().insert(Principal::user(TESTER));
    req
}

/// [`post`] without a principal.
pub fn anonymous_post(path: &str, key: &str, body: &'static str) -> Req {
    Request::post(path)
        .header("idempotency-key", format!("\"{key}\""))
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap()
}

/// The record key of `key` sent by [`TESTER`].
pub fn tester_key(key: &str) -> String {
    tower_vigil_idempotency::__private::record_key(&Principal::user(TESTER).scope(), key)
}

pub fn send(svc: &Svc, req: Req) -> impl Future<Output = Response<Bytes>> + Send + use<> {
    let call = svc.clone().oneshot(req);
    async move { call.await.unwrap() }
}

pub fn header<'a>(res: &'a Response<Bytes>, name: &str) -> Option<&'a str> {
    res.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The kind of the rejection the layer put in `res`'s extensions.
pub fn rejection<T>(res: &Response<T>) -> Option<IdempotencyRejectionKind> {
    res.extensions()
        .get::<IdempotencyRejection>()
        .map(IdempotencyRejection::kind)
}

/// For a not-replayable rejection in `res`'s extensions: the first request's status and why
/// its response was not kept.
pub fn not_replayable<T>(res: &Response<T>) -> Option<(StatusCode, NotReplayableReason)> {
    let r = res.extensions().get::<IdempotencyRejection>()?;
    (r.kind() == IdempotencyRejectionKind::NotReplayable).then(|| {
        (
            r.original_status().unwrap(),
            r.not_replayable_reason().unwrap(),
        )
    })
}
