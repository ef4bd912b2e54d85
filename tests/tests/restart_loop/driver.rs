//! The restart loop itself: a target (one server, or the nodes of a cluster in turn) killed
//! with `SIGKILL` and restarted every few seconds while clients send requests through the
//! whole stack, then every check of the loop (see `main.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures_util::future::join_all;
use http::Request;
use tokio::time::Instant;
use tower_vigil_core::RedisBackend;
use tower_vigil_ratelimit::metrics::{
    ALLOWED_TOTAL, FAILED_OPEN_TOTAL, LIMITED_TOTAL, UNAVAILABLE_TOTAL,
};
use tower_vigil_tests::metrics::Counters;
use tower_vigil_tests::{RedisCluster, RedisServer};

use crate::load::{self, Load};
use crate::stack;

/// The production default: a dead Redis costs a request this much per backend call.
pub(crate) const TIMEOUT: Duration = Duration::from_millis(250);
const CLIENTS: usize = 4;
/// How long Redis stays up, then down, in turn (a fixed cycle: runs are comparable).
const UP: [Duration; 3] = [
    Duration::from_millis(2000),
    Duration::from_millis(3000),
    Duration::from_millis(1500),
];
const DOWN: [Duration; 3] = [
    Duration::from_millis(400),
    Duration::from_millis(1000),
    Duration::from_millis(200),
];

static PANICS: AtomicU64 = AtomicU64::new(0);

fn duration() -> Duration {
    let secs = std::env::var("VIGIL_RESTART_LOOP_SECS")
        .ok()
        .map(|s| {
            s.parse::<u64>()
                .expect("VIGIL_RESTART_LOOP_SECS is whole seconds")
        })
        .unwrap_or(15);
    Duration::from_secs(secs)
}

/// What the loop kills and restarts.
pub(crate) trait Target: Send + 'static {
    /// Kills (`SIGKILL`) what round `round` takes down.
    fn kill(&mut self, round: usize);
    /// Starts it again on the same port.
    fn restart(&mut self, round: usize);
}

impl Target for RedisServer {
    fn kill(&mut self, _: usize) {
        self.stop();
    }

    fn restart(&mut self, _: usize) {
        RedisServer::restart(self);
    }
}

/// One master after the other (no replicas: its slots fail until it is back).
impl Target for RedisCluster {
    fn kill(&mut self, round: usize) {
        self.stop_node(round % 3);
    }

    fn restart(&mut self, round: usize) {
        self.restart_node(round % 3);
    }
}

/// Kills and restarts `target` on its thread until `stop`; returns it, up.
fn restart_loop<T: Target>(
    mut target: T,
    epoch: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<T> {
    std::thread::spawn(move || {
        for i in 0.. {
            let up_until = std::time::Instant::now() + UP[i % UP.len()];
            while std::time::Instant::now() < up_until {
                if stop.load(Ordering::SeqCst) {
                    return target;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            target.kill(i);
            // Counted once the process is dead (`kill` waits for it), not before: a write
            // sent after an earlier count and landing just before the kill would otherwise
            // vanish with no change to the count. A write sent after this count was read
            // cannot land on the killed server, and its loss shows only once the new one is
            // up, after the count moved.
            epoch.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(DOWN[i % DOWN.len()]);
            target.restart(i);
        }
        unreachable!()
    })
}

/// Runs the loop on `target` with the stack on `backend` (connected to it), and checks.
pub(crate) async fn run<T: Target>(target: T, backend: RedisBackend) {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        hook(info);
    }));
    let counters = Counters::default();
    metrics::set_global_recorder(counters.clone()).expect("the only recorder of this binary");
    let load = Load {
        svc: stack::build(backend, stack::Runs::default()).await,
        epoch: Arc::default(),
        tally: Arc::default(),
    };

    let stop = Arc::new(AtomicBool::new(false));
    let killer = restart_loop(target, load.epoch.clone(), stop.clone());
    let deadline = Instant::now() + duration();
    let clients = (0..CLIENTS).map(|c| tokio::spawn(load.clone().client(c, deadline)));
    let panicked = join_all(clients)
        .await
        .into_iter()
        .filter(|r| r.as_ref().is_err_and(|e| e.is_panic()))
        .count();
    stop.store(true, Ordering::SeqCst);
    let target = tokio::task::spawn_blocking(move || killer.join().expect("the restart loop"))
        .await
        .unwrap();
    let kills = load.epoch.load(Ordering::SeqCst);

    // Redis is up: every route works again without rebuilding anything.
    recovers(&load).await;

    let tally = load.tally.lock();
    let (allowed, limited) = (counters.get(ALLOWED_TOTAL), counters.get(LIMITED_TOTAL));
    let failed_open = counters.get(FAILED_OPEN_TOTAL);
    let unavailable = counters.get(UNAVAILABLE_TOTAL);
    let summary = format!(
        "{kills} kills, {} sent, {} hung, slowest {:?}, {} writes lost to kills, answers {:?}; \
         rate limit: allowed {allowed}, limited \
         {limited}, failed open {failed_open}, unavailable {unavailable}",
        tally.sent, tally.hung, tally.slowest, tally.lost_to_kills, tally.answers
    );
    eprintln!("restart loop: {summary}");
    assert_eq!(panicked, 0, "client tasks panicked: {summary}");
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "panics: {summary}");
    assert_eq!(tally.hung, 0, "hung requests: {summary}");
    assert!(
        tally.violations.is_empty(),
        "{} violations, first ones: {:#?}\n{summary}",
        tally.violations.len(),
        &tally.violations[..tally.violations.len().min(10)]
    );
    assert!(kills >= 2, "the loop killed Redis: {summary}");

    // Every request went through the rate limiter first and was counted there exactly once.
    assert_eq!(
        allowed + limited + failed_open + unavailable,
        tally.sent,
        "the rate limiter's counters add up: {summary}"
    );
    assert!(
        failed_open > 0,
        "the kills reached the rate limiter: {summary}"
    );
    assert!(
        limited > 0,
        "the load is over the limit at times: {summary}"
    );
    assert_eq!(unavailable, 0, "the rate limit fails open: {summary}");
    drop(target);
}

/// Within 20 s of the last restart, a fresh client gets each route served.
async fn recovers(load: &Load) {
    let client = 1000;
    let give_up = Instant::now() + Duration::from_secs(20);
    let mut steps = 0;
    while Instant::now() < give_up {
        let ping = load.send(client, Request::get("/ping").body(String::new()).unwrap());
        let pay = load.send(
            client,
            Request::post("/pay")
                .header("idempotency-key", format!("\"recovery-{steps}\""))
                .body(String::new())
                .unwrap(),
        );
        let login = load.send(
            client,
            Request::post("/login")
                .header("x-user", "recovered")
                .body(String::new())
                .unwrap(),
        );
        let (ping, pay, login) = tokio::join!(ping, pay, login);
        let ok = |a: &Option<load::Answer>, s: u16| a.as_ref().is_some_and(|a| a.status == s);
        if ok(&ping, 200) && ok(&pay, 201) && ok(&login, 200) {
            return;
        }
        steps += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the stack did not recover within 20 s of Redis coming back");
}
