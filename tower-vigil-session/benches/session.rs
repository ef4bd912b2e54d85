//! Requests per second through `SessionManagerLayer` (an in-process tower service, no network), for a
//! request without a token, a session read and a session write, on memory and on a
//! `redis-server` this benchmark starts itself.
//!
//! Run: `cargo bench -p tower-vigil-session` (set `CARGO_TARGET_DIR` as you build).
#![allow(clippy::print_stdout, missing_docs)]

use std::convert::Infallible;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};
use http::{Request, Response, header};
use tower::util::BoxCloneSyncService;
use tower::{ServiceBuilder, ServiceExt, service_fn};
use tower_vigil_core::Backend;
use tower_vigil_core::http::ResponseBody;
use tower_vigil_core::{MemoryBackend, RedisBackend};
use tower_vigil_session::{Session, SessionManagerLayer};
use tower_vigil_tests::RedisServer;

type Svc = BoxCloneSyncService<Request<String>, Response<ResponseBody<String>>, Infallible>;

fn app(store: impl Backend) -> Svc {
    let svc = ServiceBuilder::new()
        .layer(SessionManagerLayer::new(store))
        .service(service_fn(|req: Request<String>| async move {
            let session = req.extensions().get::<Session>().unwrap().clone();
            let body = match req.uri().path() {
                "/read" => session
                    .get::<u64>("n")
                    .await
                    .unwrap()
                    .unwrap_or(0)
                    .to_string(),
                "/write" => {
                    let n: u64 = req.uri().query().unwrap_or("0").parse().unwrap();
                    session.insert("n", n).await.unwrap();
                    String::new()
                }
                _ => String::new(),
            };
            Ok::<_, Infallible>(Response::new(body))
        }));
    BoxCloneSyncService::new(svc)
}

async fn call(svc: &Svc, path: &str, cookie: Option<&str>) -> Response<ResponseBody<String>> {
    let mut b = Request::get(path);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    let res = svc
        .clone()
        .oneshot(b.body(String::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res
}

/// Requests per second for `n` requests, `concurrency` in flight.
async fn measure(
    svc: &Svc,
    path: &'static str,
    cookie: Option<&str>,
    n: usize,
    concurrency: usize,
) -> f64 {
    let start = Instant::now();
    stream::iter(0..n)
        .map(|i| {
            let path = if path == "/write" {
                format!("/write?{i}")
            } else {
                path.to_owned()
            };
            async move { call(svc, &path, cookie).await }
        })
        .buffer_unordered(concurrency)
        .for_each(|_| async {})
        .await;
    n as f64 / start.elapsed().as_secs_f64()
}

async fn run(name: &str, svc: Svc, n: usize) {
    let res = call(&svc, "/write?1", None).await;
    let set = res.headers()[header::SET_COOKIE].to_str().unwrap();
    let cookie = set.split(';').next().unwrap().to_owned();
    // Warm-up.
    measure(&svc, "/read", Some(&cookie), n / 10, 1).await;
    for concurrency in [1, 32] {
        let none = measure(&svc, "/none", None, n, concurrency).await;
        let read = measure(&svc, "/read", Some(&cookie), n, concurrency).await;
        let write = measure(&svc, "/write", Some(&cookie), n, concurrency).await;
        println!(
            "{name:<8} in flight {concurrency:>2}: no token {none:>10.0} req/s | session read {read:>9.0} req/s | session write {write:>9.0} req/s"
        );
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        run("memory", app(MemoryBackend::new()), 200_000).await;
        let server = RedisServer::start();
        let redis = RedisBackend::builder(&server.url())
            .timeout(Duration::from_secs(2))
            .connect()
            .await
            .unwrap();
        run("redis", app(redis), 20_000).await;
    });
}
