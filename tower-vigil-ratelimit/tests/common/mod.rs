//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use tower::{Service, service_fn};
use tower_vigil_core::http::ResponseBody;
use tower_vigil_core::{BackendError, BackendResult};
use tower_vigil_tests::intercept::{Intercepted, Interceptor};

/// A fixed instant (µs since the epoch) for tests with an injected clock.
pub const T0: u64 = 1_800_000_000_000_000;

/// An inner service answering 200.
pub fn ok_service()
-> impl Service<Request<String>, Response = Response<String>, Error = Infallible, Future: Send>
+ Clone
+ Send {
    service_fn(|_req: Request<String>| async {
        Ok::<_, Infallible>(Response::new("ok".to_owned()))
    })
}

/// An inner service answering with the status in the `x-status` request header (default 200).
pub fn status_service()
-> impl Service<Request<String>, Response = Response<String>, Error = Infallible, Future: Send>
+ Clone
+ Send {
    service_fn(|req: Request<String>| async move {
        let status = req
            .headers()
            .get("x-status")
            .and_then(|v| v.to_str().ok()?.parse::<u16>().ok())
            .unwrap_or(200);
        let mut res = Response::new(String::new());
        *res.status_mut() = StatusCode::from_u16(status).unwrap();
        Ok::<_, Infallible>(res)
    })
}

/// A request from the peer `ip`.
pub fn from_ip(ip: &str) -> Request<String> {
    let mut req = Request::new(String::new());
    let addr: SocketAddr = format!("{ip}:40000")
        .parse()
        .unwrap_or_else(|_| format!("[{ip}]:40000").parse().expect("an IP address"));
    req.extensions_mut().insert(addr);
    req
}

/// The body as JSON.
pub async fn json(res: Response<ResponseBody<String>>) -> serde_json::Value {
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

/// The body as text.
pub async fn text(res: Response<ResponseBody<String>>) -> String {
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// A header as a string.
pub fn header<B>(res: &Response<B>, name: &str) -> String {
    res.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
        .to_owned()
}

/// Makes the error a [`Probe`] fails with.
pub type MakeError = fn() -> BackendError;

/// A backend passing every call to the one it wraps, counting the scripts it runs, and failing
/// them all (as a dead Redis would) while [`Counts::fail_with`] says so.
pub type Probe<B> = Intercepted<B, Counts>;

/// What a [`Probe`] counts and whether it fails.
#[derive(Debug, Default)]
pub struct Counts {
    calls: AtomicUsize,
    failure: Mutex<Option<MakeError>>,
}

impl Counts {
    /// Scripts run (or failed) so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// From now on every script fails with `error()` (`None`: runs again).
    pub fn fail_with(&self, error: Option<MakeError>) {
        *self.failure.lock().unwrap() = error;
    }
}

impl Interceptor for Counts {
    async fn before(&self, _: &'static str) -> BackendResult<()> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let failure = *self.failure.lock().unwrap();
        match failure {
            Some(error) => Err(error()),
            None => Ok(()),
        }
    }
}

/// Generates one `#[tokio::test]` per (case, backend): memory, standalone Redis and the
/// 3-master cluster.
#[macro_export]
macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test]
            async fn $case() {
                super::$case(tower_vigil_tests::fixtures::memory()).await;
            })*
        }
        mod redis {
            $(#[tokio::test]
            async fn $case() {
                super::$case(tower_vigil_tests::fixtures::redis().await).await;
            })*
        }
        mod cluster {
            $(#[tokio::test]
            async fn $case() {
                super::$case(tower_vigil_tests::fixtures::cluster().await).await;
            })*
        }
        mod sentinel {
            $(#[tokio::test]
            async fn $case() {
                super::$case(tower_vigil_tests::fixtures::sentinel().await).await;
            })*
        }
    };
}
