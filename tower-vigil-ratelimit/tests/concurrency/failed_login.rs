//! Issue 13, concurrency attacks on failed-login limiting: four layer instances (four app
//! servers, each on its own connection; one shared `MemoryBackend` on a multi-threaded
//! runtime) count only 401s against a limit of 10 per minute, and 400 guesses arrive at once.
//!
//! - All wrong: exactly 10 reach the handler, whatever the algorithm.
//! - Wrong guesses mixed with correct logins (200s, refunded): still at most 10 wrong
//!   guesses reach the handler, and once the burst is over every correct login has given
//!   its unit back: wrong guesses sent one by one afterwards fill the limit exactly. (During
//!   the burst a correct login holds its unit until its response says it does not count, so
//!   the burst alone may admit no wrong guess at all: that is the price of "at most", not
//!   a lost unit.)
//!
//! The clock is frozen (an injected app clock), so every algorithm is exact at one instant.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::{T0, from_ip};
use http::{Request, Response, StatusCode};
use tokio::sync::Barrier;
use tower::util::BoxCloneSyncService;
use tower::{Layer, ServiceExt, service_fn};
use tower_vigil_core::Backend;
use tower_vigil_ratelimit::{Algorithm, Clock, Quota, RateLimitLayer};

const LIMIT: u32 = 10;
const GUESSES: usize = 400;

/// Sends `GUESSES` logins at once over the four stores' layers, one in `correct_every`
/// correct (0: none); returns how many wrong guesses reached the handler.
async fn wrong_guesses_run<B: Backend>(
    stores: &[B; 4],
    algorithm: Algorithm,
    host: u8,
    correct_every: usize,
) -> usize {
    let wrong_run = Arc::new(AtomicUsize::new(0));
    let services: Vec<_> = stores
        .iter()
        .map(|store| login_service(store.clone(), algorithm, &wrong_run, true))
        .collect();
    let barrier = Arc::new(Barrier::new(GUESSES));
    let tasks: Vec<_> = (0..GUESSES)
        .map(|i| {
            let (svc, barrier) = (services[i % 4].clone(), barrier.clone());
            let mut req = from_ip(&format!("198.51.100.{host}"));
            if correct_every > 0 && i % correct_every == 0 {
                req.headers_mut().insert("x-correct", "1".parse().unwrap());
            }
            tokio::spawn(async move {
                barrier.wait().await;
                svc.oneshot(req).await.unwrap()
            })
        })
        .collect();
    for task in tasks {
        let status = task.await.unwrap();
        assert!([200, 401, 429].contains(&status.as_u16()), "{status}");
    }
    wrong_run.load(Ordering::SeqCst)
}

/// Sends wrong guesses for `host` one at a time through a fresh layer without a deny cache
/// (another instance's cached denial would outlive the refunds that ended it) until one is
/// refused; returns how many reached the handler.
async fn wrong_guesses_run_one_by_one<B: Backend>(
    store: &B,
    algorithm: Algorithm,
    host: u8,
) -> usize {
    let wrong_run = Arc::new(AtomicUsize::new(0));
    let svc = login_service(store.clone(), algorithm, &wrong_run, false);
    for _ in 0..=LIMIT {
        let req = from_ip(&format!("198.51.100.{host}"));
        let status = svc.clone().oneshot(req).await.unwrap();
        if status == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    wrong_run.load(Ordering::SeqCst)
}

/// A login endpoint behind a rate limit that counts only 401s; `wrong_run` counts the wrong
/// guesses that reached it.
fn login_service<B: Backend>(
    store: B,
    algorithm: Algorithm,
    wrong_run: &Arc<AtomicUsize>,
    deny_cache: bool,
) -> BoxCloneSyncService<Request<String>, StatusCode, Infallible> {
    let handler = {
        let wrong_run = wrong_run.clone();
        service_fn(move |req: Request<String>| {
            let wrong_run = wrong_run.clone();
            async move {
                let correct = req.headers().contains_key("x-correct");
                if !correct {
                    wrong_run.fetch_add(1, Ordering::SeqCst);
                }
                // Stay in flight a moment, so the other guesses arrive meanwhile.
                tokio::task::yield_now().await;
                let mut res = Response::new(String::new());
                if !correct {
                    *res.status_mut() = StatusCode::UNAUTHORIZED;
                }
                Ok::<_, Infallible>(res)
            }
        })
    };
    let mut builder = RateLimitLayer::builder(store, Quota::per_minute(LIMIT))
        .algorithm(algorithm)
        .clock(Clock::custom(|| T0 + 17_000_000))
        .charge_when(|status| status == StatusCode::UNAUTHORIZED);
    if !deny_cache {
        builder = builder.deny_cache(None);
    }
    BoxCloneSyncService::new(
        builder
            .build()
            .unwrap()
            .layer(handler)
            .map_response(|res| res.status()),
    )
}

async fn four_instances_let_exactly_the_limit_of_wrong_guesses_through<B: Backend>(stores: [B; 4]) {
    for (host, algorithm) in (1u8..).zip(Algorithm::ALL) {
        let run = wrong_guesses_run(&stores, algorithm, host, 0).await;
        assert_eq!(run, LIMIT as usize, "{algorithm}");
    }
}

async fn correct_logins_mixed_in_never_make_room_for_more_guesses<B: Backend>(stores: [B; 4]) {
    for (host, algorithm) in (101u8..).zip(Algorithm::ALL) {
        let run = wrong_guesses_run(&stores, algorithm, host, 4).await;
        assert!(
            run <= LIMIT as usize,
            "{algorithm}: {run} wrong guesses ran"
        );
        let after = wrong_guesses_run_one_by_one(&stores[0], algorithm, host).await;
        assert_eq!(
            run + after,
            LIMIT as usize,
            "{algorithm}: {run} wrong guesses in the burst, {after} after it"
        );
    }
}

macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn memory() {
                let m = tower_vigil_tests::fixtures::memory();
                super::$case([m.clone(), m.clone(), m.clone(), m]).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn redis() {
                super::$case(tower_vigil_tests::fixtures::redis_instances().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn cluster() {
                super::$case(tower_vigil_tests::fixtures::cluster_instances().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sentinel() {
                super::$case(tower_vigil_tests::fixtures::sentinel_instances().await).await;
            }
        }
    )*};
}

on_every_backend!(
    four_instances_let_exactly_the_limit_of_wrong_guesses_through,
    correct_logins_mixed_in_never_make_room_for_more_guesses,
);
