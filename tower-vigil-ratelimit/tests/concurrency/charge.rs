//! Charge by outcome under concurrency (issue 12, item 1): the cost is taken before the call
//! and refunded after, so requests sent at once run the handler at most `limit` times, and
//! responses that do not count give their unit back (headers, deny cache, failed refunds).
//!
//! The inner service holds every request it receives at a gate until the test has seen all of
//! them arrive there or be refused: every admitted request is in flight at once, without
//! sleeps. A limiter that checked before the call and charged after would let all of them in.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::{Probe, T0, from_ip};
use http::{Request, Response, StatusCode};
use tokio::sync::{Semaphore, mpsc};
use tower::{Layer, Service, ServiceExt, service_fn};
use tower_vigil_core::Backend;
use tower_vigil_core::{BackendError, BackendErrorKind};
use tower_vigil_ratelimit::{
    Acquire, Algorithm, Clock, Decision, Mode, Policy, Quota, RateLimitLayer, acquire,
};

const LIMIT: u32 = 10;

/// Holds requests inside the handler until opened; reports each arrival.
#[derive(Clone)]
struct Gate {
    invoked: Arc<AtomicUsize>,
    open: Arc<Semaphore>,
    arrived: mpsc::UnboundedSender<()>,
}

impl Gate {
    fn new() -> (Self, mpsc::UnboundedReceiver<()>) {
        let (arrived, rx) = mpsc::unbounded_channel();
        let gate = Self {
            invoked: Arc::default(),
            open: Arc::new(Semaphore::new(0)),
            arrived,
        };
        (gate, rx)
    }

    /// Answers with the `x-status` of the request once the gate opens.
    fn service(
        &self,
    ) -> impl Service<Request<String>, Response = Response<String>, Error = Infallible, Future: Send>
    + Clone
    + Send
    + 'static {
        let gate = self.clone();
        service_fn(move |req: Request<String>| {
            let gate = gate.clone();
            async move {
                gate.invoked.fetch_add(1, Ordering::SeqCst);
                let _ = gate.arrived.send(());
                gate.open.acquire().await.unwrap().forget();
                let status = req.headers()["x-status"].to_str().unwrap().parse().unwrap();
                let mut res = Response::new(String::new());
                *res.status_mut() = StatusCode::from_u16(status).unwrap();
                Ok::<_, Infallible>(res)
            }
        })
    }
}

fn request(host: u8, status: u16) -> Request<String> {
    let mut req = from_ip(&format!("198.51.100.{host}"));
    req.headers_mut().insert("x-status", status.into());
    req
}

/// Sends `n` requests at once and returns their responses once all of them either reached
/// the handler or were refused without it, and the gate was opened.
async fn all_at_once<S>(
    svc: S,
    gate: &Gate,
    arrivals: &mut mpsc::UnboundedReceiver<()>,
    reqs: impl Fn() -> Request<String>,
    n: usize,
) -> Vec<S::Response>
where
    S: Service<Request<String>, Response = Response<tower_vigil_core::http::ResponseBody<String>>>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    S::Error: std::fmt::Debug + Send,
{
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (svc, req, arrived) = (svc.clone(), reqs(), gate.arrived.clone());
            tokio::spawn(async move {
                let res = svc.oneshot(req).await.unwrap();
                if res.status() == StatusCode::TOO_MANY_REQUESTS {
                    let _ = arrived.send(());
                }
                res
            })
        })
        .collect();
    for _ in 0..n {
        arrivals.recv().await.unwrap();
    }
    gate.open.add_permits(n);
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

fn count(responses: &[Response<impl Sized>], status: u16) -> usize {
    responses.iter().filter(|r| r.status() == status).count()
}

fn layer<B: Backend>(store: B, algorithm: Algorithm) -> RateLimitLayer<B> {
    RateLimitLayer::builder(store, Quota::per_minute(LIMIT))
        .algorithm(algorithm)
        // A frozen clock: every algorithm, windows included, is exact at one instant.
        .clock(Clock::custom(|| T0 + 17_000_000))
        .charge_when(|s| s == StatusCode::UNAUTHORIZED)
        .build()
        .unwrap()
}

async fn concurrent_failures_run_the_handler_at_most_limit_times<B: Backend>(store: B) {
    for (host, algorithm) in (1u8..).zip(Algorithm::ALL) {
        let (gate, mut arrivals) = Gate::new();
        let svc = layer(store.clone(), algorithm).layer(gate.service());
        let res = all_at_once(svc, &gate, &mut arrivals, || request(host, 401), 100).await;
        assert_eq!(
            gate.invoked.load(Ordering::SeqCst),
            LIMIT as usize,
            "{algorithm}"
        );
        assert_eq!(count(&res, 401), LIMIT as usize, "{algorithm}");
        assert_eq!(count(&res, 429), 100 - LIMIT as usize, "{algorithm}");
    }
}

async fn outcomes_that_do_not_count_are_refunded<B: Backend>(store: B) {
    for (host, algorithm) in (20u8..).zip(Algorithm::ALL) {
        let (gate, mut arrivals) = Gate::new();
        let svc = layer(store.clone(), algorithm).layer(gate.service());
        // A full quota of successful logins at once: all run, none keeps its unit.
        let res = all_at_once(svc.clone(), &gate, &mut arrivals, || request(host, 200), 10).await;
        assert_eq!(count(&res, 200), LIMIT as usize, "{algorithm}");
        gate.open.add_permits(100); // from here on, the handler answers at once
        let ok = svc.clone().oneshot(request(host, 200)).await.unwrap();
        assert_eq!(ok.status(), 200, "{algorithm}");
        // Its headers describe the state after the refund: the whole quota is left.
        assert_eq!(ok.headers()["x-ratelimit-remaining"], "10", "{algorithm}");
        let d = ok.extensions().get::<Decision>().unwrap();
        assert_eq!(d.policies()[0].remaining(), 10, "{algorithm}");
        for _ in 0..LIMIT {
            let failed = svc.clone().oneshot(request(host, 401)).await.unwrap();
            assert_eq!(failed.status(), 401, "{algorithm}");
        }
        let refused = svc.clone().oneshot(request(host, 200)).await.unwrap();
        assert_eq!(
            refused.status(),
            429,
            "{algorithm}: the failures spent the quota"
        );
    }
}

async fn a_refund_clears_the_denial_it_caused<B: Backend>(store: B) {
    let (gate, mut arrivals) = Gate::new();
    let svc = RateLimitLayer::builder(store, Quota::per_minute(1))
        .charge_when(|s| s == StatusCode::UNAUTHORIZED)
        .build()
        .unwrap()
        .layer(gate.service());
    let first = tokio::spawn(svc.clone().oneshot(request(40, 200)));
    arrivals.recv().await.unwrap();
    // The success in flight holds the only unit: this one is refused, and the denial cached.
    let (second, arrived) = (svc.clone().oneshot(request(40, 200)), gate.arrived.clone());
    let second = tokio::spawn(async move {
        let res = second.await.unwrap();
        let _ = arrived.send(()); // refused, or (were it let in) through the handler
        res
    });
    arrivals.recv().await.unwrap();
    gate.open.add_permits(100);
    assert_eq!(second.await.unwrap().status(), 429);
    assert_eq!(first.await.unwrap().unwrap().status(), 200);
    // Refunded: the deny cache must not keep refusing for the rest of the minute.
    let third = svc.clone().oneshot(request(40, 200)).await.unwrap();
    assert_eq!(third.status(), 200);
}

async fn shadow_mode_refunds_only_what_it_took<B: Backend>(store: B) {
    let (gate, _arrivals) = Gate::new();
    gate.open.add_permits(1_000);
    let svc = RateLimitLayer::builder(store.clone(), Quota::per_minute(LIMIT))
        .clock(Clock::custom(|| T0 + 17_000_000))
        .charge_when(|s| s == StatusCode::UNAUTHORIZED)
        .shadow(true)
        .deny_cache(None)
        .build()
        .unwrap()
        .layer(gate.service());
    for _ in 0..LIMIT {
        let failed = svc.clone().oneshot(request(60, 401)).await.unwrap();
        assert_eq!(failed.status(), 401);
    }
    // Over the limit, served anyway: these successes took nothing, so give nothing back.
    for _ in 0..5 {
        let served = svc.clone().oneshot(request(60, 200)).await.unwrap();
        assert_eq!(served.status(), 200);
        assert!(!served.extensions().get::<Decision>().unwrap().allowed());
    }
    let policies = [Policy::new("default", Quota::per_minute(LIMIT)).unwrap()];
    let peek = Acquire::new("ip:198.51.100.60", &policies)
        .at(T0 + 17_000_000)
        .mode(Mode::Peek);
    let state = acquire(&store, peek).await.unwrap();
    assert!(!state.allowed(), "the quota stays spent, as when enforcing");
}

async fn a_failed_refund_leaves_the_unit_charged<B: Backend>(store: B) {
    let (gate, mut arrivals) = Gate::new();
    let flaky = Probe::new(store.clone());
    let svc = layer(flaky.clone(), Algorithm::Gcra).layer(gate.service());
    let call = tokio::spawn(svc.oneshot(request(50, 200)));
    arrivals.recv().await.unwrap();
    // The store goes down while the handler runs: the refund after it fails.
    flaky.fail_with(Some(|| {
        BackendError::new(BackendErrorKind::Unavailable, "down")
    }));
    gate.open.add_permits(1);
    let res = call.await.unwrap().unwrap();
    assert_eq!(res.status(), 200, "the response is served unchanged");
    assert_eq!(
        res.headers()["x-ratelimit-remaining"],
        "9",
        "the acquire's state"
    );
    let policies = [Policy::new("default", Quota::per_minute(LIMIT)).unwrap()];
    let now = T0 + 17_000_000;
    let peek = Acquire::new("ip:198.51.100.50", &policies)
        .at(now)
        .mode(Mode::Peek);
    let state = acquire(&store, peek).await.unwrap();
    // A peek answers what one more request would leave: 10 - 1 charged - 1.
    assert_eq!(state.policies()[0].remaining(), 8, "the unit stays charged");
}

/// A known-good request (here: one marked `x-known`) is checked, not charged, before the
/// call: 50 of them in flight at once behind a limit of 10 are all served, where each would
/// otherwise hold a unit. One whose response counts after all is charged afterwards, and once
/// the key is over, known-good requests are refused like any other.
async fn known_good_requests_in_flight_hold_no_unit<B: Backend>(store: B) {
    for (host, algorithm) in (70u8..).zip(Algorithm::ALL) {
        let (gate, mut arrivals) = Gate::new();
        let svc = RateLimitLayer::builder(store.clone(), Quota::per_minute(LIMIT))
            .algorithm(algorithm)
            .clock(Clock::custom(|| T0 + 17_000_000))
            .charge_when(|s| s == StatusCode::UNAUTHORIZED)
            .known_good(|req| req.headers().contains_key("x-known"))
            .build()
            .unwrap()
            .layer(gate.service());
        let known = |status| {
            let mut req = request(host, status);
            req.headers_mut().insert("x-known", "1".parse().unwrap());
            req
        };
        let res = all_at_once(svc.clone(), &gate, &mut arrivals, || known(200), 50).await;
        assert_eq!(count(&res, 200), 50, "{algorithm}");
        // Each was checked as if it would count: what one more unit would leave.
        assert_eq!(
            res[0].headers()["x-ratelimit-remaining"],
            "9",
            "{algorithm}"
        );
        gate.open.add_permits(1_000);
        // Known good, and refused by the handler anyway (a key revoked meanwhile): charged.
        for i in 0..LIMIT {
            let failed = svc.clone().oneshot(known(401)).await.unwrap();
            assert_eq!(failed.status(), 401, "{algorithm}");
            let left = (LIMIT - 1 - i).to_string();
            assert_eq!(
                failed.headers()["x-ratelimit-remaining"],
                left.as_str(),
                "{algorithm}"
            );
        }
        for req in [known(200), request(host, 200)] {
            let refused = svc.clone().oneshot(req).await.unwrap();
            assert_eq!(refused.status(), 429, "{algorithm}: over the limit");
        }
    }
}

on_every_backend!(
    known_good_requests_in_flight_hold_no_unit,
    concurrent_failures_run_the_handler_at_most_limit_times,
    outcomes_that_do_not_count_are_refunded,
    a_refund_clears_the_denial_it_caused,
    a_failed_refund_leaves_the_unit_charged,
    shadow_mode_refunds_only_what_it_took,
);
