//! Counting acknowledged locks and idempotency claims a failover loses. Every name used lives
//! on the slots of the master about to die; a lock (or claim) counts as lost when, after the
//! promotion, someone else can take it: two holders (or a retry that runs twice).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::task::JoinHandle;
use tower_vigil_core::{Lock, LockGuard, RedisBackend};
use tower_vigil_idempotency::__private::{self as idempotency, Claim, Fingerprint};
use tower_vigil_tests::key_slot;

pub(crate) const LEASE: Duration = Duration::from_secs(60);
const WORKERS: usize = 4;

pub(crate) fn fingerprint() -> Fingerprint {
    Fingerprint::of(&http::Method::POST, "/pay", None, b"{}")
}

pub(crate) fn claim_key(name: &str) -> String {
    format!("idempotency:{{{name}}}")
}

/// The `n`-th name starting with `tag` whose slot is in `slots`, counting from `*next`.
pub(crate) fn next_name(tag: &str, next: &AtomicU64, slots: &[(u16, u16)]) -> String {
    loop {
        let name = format!("{tag}{}", next.fetch_add(1, Ordering::Relaxed));
        let slot = key_slot(&name);
        if slots.iter().any(|&(a, b)| (a..=b).contains(&slot)) {
            return name;
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Lock,
    Claim,
}

/// An acknowledged name, when, and its lock guard (kept: dropping one releases it).
type Ack = (String, Instant, Option<LockGuard<RedisBackend>>);

/// What one kind of write on one backend achieved.
struct Run {
    name: &'static str,
    kind: Kind,
    waited: bool,
    acks: Arc<Mutex<Vec<Ack>>>,
    slowest: Arc<Mutex<Duration>>,
    stop: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
}

/// Acquire (or claim) fresh names on `slots` without pause, until stopped.
pub struct Runs(Vec<Run>);

pub fn start_runs(plain: &RedisBackend, waiting: &RedisBackend, slots: &[(u16, u16)]) -> Runs {
    let mut runs = Vec::new();
    for (name, kind, backend, waited) in [
        ("lock", Kind::Lock, plain, false),
        ("lock+WAIT", Kind::Lock, waiting, true),
        ("claim", Kind::Claim, plain, false),
        ("claim+WAIT", Kind::Claim, waiting, true),
    ] {
        let acks = Arc::new(Mutex::new(Vec::new()));
        let slowest = Arc::new(Mutex::new(Duration::ZERO));
        let stop = Arc::new(AtomicBool::new(false));
        let next = Arc::new(AtomicU64::new(0));
        let workers = (0..WORKERS)
            .map(|_| {
                let (backend, acks, slowest, stop, next) = (
                    backend.clone(),
                    acks.clone(),
                    slowest.clone(),
                    stop.clone(),
                    next.clone(),
                );
                let slots = slots.to_vec();
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let n = next_name(name, &next, &slots);
                        let start = Instant::now();
                        let ack = match kind {
                            Kind::Lock => Lock::new(backend.clone(), &n, LEASE)
                                .unwrap()
                                .try_acquire()
                                .await
                                .ok()
                                .flatten()
                                .map(Some),
                            Kind::Claim => {
                                let (key, fp) = (claim_key(&n), fingerprint());
                                let c = idempotency::claim(&backend, &key, &fp, b"w", LEASE).await;
                                matches!(c, Ok(Claim::Acquired)).then_some(None)
                            }
                        };
                        let took = start.elapsed();
                        {
                            let mut s = slowest.lock();
                            *s = (*s).max(took);
                        }
                        match ack {
                            Some(guard) => acks.lock().push((n, Instant::now(), guard)),
                            // Failed (the master is down): pace the retries.
                            None => tokio::time::sleep(Duration::from_millis(20)).await,
                        }
                    }
                })
            })
            .collect();
        runs.push(Run {
            name,
            kind,
            waited,
            acks,
            slowest,
            stop,
            workers,
        });
    }
    Runs(runs)
}

/// What a failover did to one kind of acknowledged write.
pub struct Tally {
    pub name: &'static str,
    pub waited: bool,
    pub acknowledged: usize,
    pub acknowledged_before_kill: usize,
    pub lost: usize,
    pub slowest: Duration,
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:<11} acknowledged {:>5} ({:>5} before the kill), lost {:>3}, slowest call {:.0?}",
            self.name, self.acknowledged, self.acknowledged_before_kill, self.lost, self.slowest
        )
    }
}

/// Retries `op` through the failover's aftermath (the client learning the new topology).
pub(crate) async fn settled<T>(what: &str, mut op: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = op().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: the backend did not settle"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// True when someone else can now take the lock on `name`.
pub(crate) async fn lock_lost(checker: &RedisBackend, name: &str) -> bool {
    let lock = Lock::new(checker.clone(), name, LEASE).unwrap();
    settled("lock check", async || lock.try_acquire().await.ok())
        .await
        .is_some()
}

/// True when a retry could now claim `name` and run again.
pub(crate) async fn claim_lost(checker: &RedisBackend, name: &str) -> bool {
    let key = claim_key(name);
    let claim = settled("claim check", async || {
        idempotency::claim(checker, &key, &fingerprint(), b"checker", LEASE)
            .await
            .ok()
    })
    .await;
    claim == Claim::Acquired
}

pub async fn finish_runs(runs: Runs, checker: &RedisBackend, killed: Instant) -> Vec<Tally> {
    for run in &runs.0 {
        run.stop.store(true, Ordering::Relaxed);
    }
    let mut tallies = Vec::new();
    for run in runs.0 {
        for w in run.workers {
            w.await.expect("a worker panicked");
        }
        let acks = std::mem::take(&mut *run.acks.lock());
        let mut lost = 0;
        for (name, _, _) in &acks {
            let gone = match run.kind {
                Kind::Lock => lock_lost(checker, name).await,
                Kind::Claim => claim_lost(checker, name).await,
            };
            lost += usize::from(gone);
        }
        tallies.push(Tally {
            name: run.name,
            waited: run.waited,
            acknowledged: acks.len(),
            acknowledged_before_kill: acks.iter().filter(|(_, at, _)| *at < killed).count(),
            lost,
            slowest: *run.slowest.lock(),
        });
    }
    tallies
}
