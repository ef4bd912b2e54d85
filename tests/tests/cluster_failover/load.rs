//! Sustained load through one layer: a few workers sending requests back to back, each
//! outcome recorded with its time and latency, until told to stop.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::task::JoinHandle;

use crate::layers::{Layers, Outcome};

/// One request's record.
#[derive(Debug, Clone)]
pub struct Sample {
    pub at: Instant,
    pub took: Duration,
    pub error: Option<String>,
}

/// A running load on one layer.
pub struct Load {
    pub name: &'static str,
    samples: Arc<Mutex<Vec<Sample>>>,
    stop: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
}

impl Load {
    /// Starts `workers` tasks calling `op` in a loop, pausing `pace` between calls.
    pub fn start<F, Fut>(name: &'static str, workers: usize, pace: Duration, op: F) -> Self
    where
        F: Fn() -> Fut + Clone + Send + 'static,
        Fut: Future<Output = Outcome> + Send,
    {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let workers = (0..workers)
            .map(|_| {
                let (op, samples, stop) = (op.clone(), samples.clone(), stop.clone());
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let at = Instant::now();
                        let error = op().await.err();
                        samples.lock().push(Sample {
                            at,
                            took: at.elapsed(),
                            error,
                        });
                        tokio::time::sleep(pace).await;
                    }
                })
            })
            .collect();
        Self {
            name,
            samples,
            stop,
            workers,
        }
    }

    /// True once the last `clean` of samples are all successes and started after `since`.
    pub fn clean_since(&self, since: Instant, clean: Duration) -> bool {
        let samples = self.samples.lock();
        let last_failure = samples
            .iter()
            .filter(|s| s.error.is_some())
            .map(|s| s.at)
            .max();
        let horizon = last_failure.map_or(since, |f| f.max(since));
        samples
            .iter()
            .filter(|s| s.error.is_none() && s.at > horizon)
            .any(|s| s.at >= horizon + clean)
    }

    /// Stops the workers and returns every sample.
    pub async fn finish(self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        for w in self.workers {
            w.await.expect("a load worker panicked");
        }
        Arc::try_unwrap(self.samples)
            .map(Mutex::into_inner)
            .unwrap_or_else(|s| s.lock().clone())
    }
}

/// What one layer went through during a failover.
#[derive(Debug)]
pub struct Report {
    pub name: &'static str,
    pub requests: usize,
    pub failed: usize,
    /// From the kill to the start of the last failed request.
    pub outage: Duration,
    /// From the promotion to the start of the last failed request (zero when none failed
    /// after it).
    pub recovery: Duration,
    pub slowest: Duration,
    pub first_error: Option<String>,
}

impl Report {
    pub fn of(name: &'static str, samples: &[Sample], killed: Instant, promoted: Instant) -> Self {
        let failures: Vec<&Sample> = samples.iter().filter(|s| s.error.is_some()).collect();
        Self {
            name,
            requests: samples.len(),
            failed: failures.len(),
            outage: failures
                .iter()
                .map(|s| s.at.saturating_duration_since(killed))
                .max()
                .unwrap_or_default(),
            recovery: failures
                .iter()
                .map(|s| s.at.saturating_duration_since(promoted))
                .max()
                .unwrap_or_default(),
            slowest: samples.iter().map(|s| s.took).max().unwrap_or_default(),
            first_error: failures.first().and_then(|s| s.error.clone()),
        }
    }
}

/// Waits until every load ran clean for 2 s after `switched` (failing the test once
/// `recovery` plus those 2 s have passed), then stops them and reports each: its outage
/// counted from `began`, its recovery from `switched`.
pub async fn settle(
    loads: Vec<Load>,
    began: Instant,
    switched: Instant,
    recovery: Duration,
) -> Vec<Report> {
    let clean = Duration::from_secs(2);
    while !loads.iter().all(|l| l.clean_since(switched, clean)) {
        let stuck: Vec<_> = loads
            .iter()
            .filter(|l| !l.clean_since(switched, clean))
            .map(|l| l.name)
            .collect();
        assert!(
            switched.elapsed() < recovery + clean,
            "still failing {recovery:?} after the failover: {stuck:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut reports = Vec::new();
    for l in loads {
        let name = l.name;
        reports.push(Report::of(name, &l.finish().await, began, switched));
    }
    reports
}

/// Prints each report, `began` and `switched` naming the two instants it counts from.
pub fn print(reports: &[Report], began: &str, switched: &str) {
    for r in reports {
        eprintln!(
            "{:<12} {:>5} requests, {:>4} failed, last failure {:>7.2?} after {began} \
             ({:>7.2?} after {switched}), slowest {:>6.0?}, first error {:?}",
            r.name, r.requests, r.failed, r.outage, r.recovery, r.slowest, r.first_error
        );
    }
}

/// A load on every layer (rate limit, API key, session, idempotency, core), two workers each.
pub fn every_layer(layers: &Layers) -> Vec<Load> {
    fn on<Fut>(name: &'static str, layers: &Layers, op: fn(Layers) -> Fut) -> Load
    where
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        let layers = layers.clone();
        Load::start(
            name,
            2,
            Duration::from_millis(5),
            move || op(layers.clone()),
        )
    }
    vec![
        on("ratelimit", layers, |l| async move { l.ratelimit().await }),
        on("apikey", layers, |l| async move { l.apikey().await }),
        on("session", layers, |l| async move { l.session().await }),
        on(
            "idempotency",
            layers,
            |l| async move { l.idempotency().await },
        ),
        on("core", layers, |l| async move { l.core().await }),
    ]
}
