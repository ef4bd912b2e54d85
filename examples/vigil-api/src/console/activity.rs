//! The rate limiters' recent activity for the console's health page: how many decisions were
//! allowed, limited, or let through undecided because the backend failed (failed open), in
//! 10-second steps over the last five minutes.
//!
//! The counts come from the metrics every rate-limit layer already records
//! (`vigil_ratelimit_allowed_total`, `…_limited_total`, `…_failed_open_total`):
//! [`ActivityRecorder`] sits in front of the Prometheus recorder, hands every metric on to it,
//! and adds those three counters' increments to three atomics; a task samples them every
//! [`STEP`]. Nothing is added to a request's path but one relaxed atomic add per decision.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use metrics::{
    Counter, CounterFn, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use parking_lot::{Mutex, RwLock};
use tower_vigil_ratelimit::metrics::{ALLOWED_TOTAL, FAILED_OPEN_TOTAL, LIMITED_TOTAL};

/// One point of the chart.
pub const STEP: Duration = Duration::from_secs(10);
/// Points kept: five minutes.
pub const POINTS: usize = 30;

/// What a rate limiter did with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allowed = 0,
    Limited = 1,
    FailedOpen = 2,
}

impl Outcome {
    /// Every outcome, in the order of a point's counts.
    pub const ALL: [Self; 3] = [Self::Allowed, Self::Limited, Self::FailedOpen];

    /// The outcome a rate-limit metric counts, if it is one of the three.
    fn of_metric(name: &str) -> Option<Self> {
        match name {
            ALLOWED_TOTAL => Some(Self::Allowed),
            LIMITED_TOTAL => Some(Self::Limited),
            FAILED_OPEN_TOTAL => Some(Self::FailedOpen),
            _ => None,
        }
    }

    /// Its class in the page and the chart (`style.css` colours it).
    pub fn class(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Limited => "limited",
            Self::FailedOpen => "failed-open",
        }
    }

    /// Its label on the page.
    pub fn label(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Limited => "limited",
            Self::FailedOpen => "failed open",
        }
    }
}

/// The counts of one step: allowed, limited, failed open.
pub type Counts = [u64; 3];

/// Running totals and their recent samples. Shared (`Arc`) by the recorder, the sampling
/// task and the health page.
#[derive(Debug, Default)]
pub struct Activity {
    totals: [AtomicU64; 3],
    /// Totals at the end of each step, oldest first: at most `POINTS + 1`.
    samples: Mutex<VecDeque<Counts>>,
}

impl Activity {
    /// Adds `n` decisions with `outcome`.
    pub fn record(&self, outcome: Outcome, n: u64) {
        self.totals[outcome as usize].fetch_add(n, Ordering::Relaxed);
    }

    /// Every decision counted since the start.
    pub fn totals(&self) -> Counts {
        Outcome::ALL.map(|o| self.totals[o as usize].load(Ordering::Relaxed))
    }

    /// Ends a step: remembers the totals now.
    pub fn sample(&self) {
        let now = self.totals();
        let mut samples = self.samples.lock();
        samples.push_back(now);
        while samples.len() > POINTS + 1 {
            samples.pop_front();
        }
    }

    /// The counts per step over the last [`POINTS`] steps, oldest first, the step in progress
    /// last (so a request shows at once). Shorter after a recent start.
    pub fn recent(&self) -> Vec<Counts> {
        let now = self.totals();
        let samples = self.samples.lock();
        let mut points: Vec<Counts> = samples
            .iter()
            .zip(samples.iter().skip(1))
            .map(|(a, b)| delta(*a, *b))
            .collect();
        let since = samples.back().copied().unwrap_or_default();
        points.push(delta(since, now));
        let skip = points.len().saturating_sub(POINTS);
        points.split_off(skip)
    }

    /// Samples every [`STEP`] for as long as the runtime runs.
    pub fn spawn_sampler(self: &Arc<Self>) {
        let activity = Arc::clone(self);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(STEP);
            every.tick().await; // the first tick is immediate: the first sample is the start
            activity.sample();
            loop {
                every.tick().await;
                activity.sample();
            }
        });
    }
}

fn delta(from: Counts, to: Counts) -> Counts {
    [0, 1, 2].map(|i| to[i].saturating_sub(from[i]))
}

/// A recorder that passes everything to `inner` and also counts the rate limiters'
/// outcomes into an [`Activity`].
#[derive(Debug)]
pub struct ActivityRecorder<R> {
    inner: R,
    activity: Arc<Activity>,
    /// The teed counters, made once per label set: `counter!` registers on every call, and a
    /// new `Arc` per request would be an allocation on the hot path.
    teed: RwLock<HashMap<Key, Counter>>,
}

impl<R> ActivityRecorder<R> {
    /// `inner`, with the rate-limit outcomes also counted into `activity`.
    pub fn new(inner: R, activity: Arc<Activity>) -> Self {
        Self {
            inner,
            activity,
            teed: RwLock::new(HashMap::new()),
        }
    }
}

/// A counter that increments the exporter's counter and the activity totals.
struct Tee {
    inner: Counter,
    activity: Arc<Activity>,
    outcome: Outcome,
}

impl CounterFn for Tee {
    fn increment(&self, value: u64) {
        self.inner.increment(value);
        self.activity.record(self.outcome, value);
    }

    fn absolute(&self, value: u64) {
        // Only the exporter's value can be set; the activity counts increments.
        self.inner.absolute(value);
    }
}

impl<R: Recorder> Recorder for ActivityRecorder<R> {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_counter(key, unit, description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_gauge(key, unit, description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_histogram(key, unit, description);
    }

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        let Some(outcome) = Outcome::of_metric(key.name()) else {
            return self.inner.register_counter(key, metadata);
        };
        if let Some(counter) = self.teed.read().get(key) {
            return counter.clone();
        }
        let inner = self.inner.register_counter(key, metadata);
        self.teed
            .write()
            .entry(key.clone())
            .or_insert_with(|| {
                Counter::from_arc(Arc::new(Tee {
                    inner,
                    activity: Arc::clone(&self.activity),
                    outcome,
                }))
            })
            .clone()
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        self.inner.register_gauge(key, metadata)
    }

    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        self.inner.register_histogram(key, metadata)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_gives_each_step_and_the_current_one() {
        let a = Activity::default();
        assert_eq!(a.recent(), vec![[0, 0, 0]]);
        a.sample();
        a.record(Outcome::Allowed, 3);
        a.record(Outcome::Limited, 1);
        a.sample();
        a.record(Outcome::FailedOpen, 2);
        assert_eq!(a.recent(), vec![[3, 1, 0], [0, 0, 2]]);
        for _ in 0..(POINTS * 2) {
            a.record(Outcome::Allowed, 1);
            a.sample();
        }
        let recent = a.recent();
        assert_eq!(recent.len(), POINTS);
        assert_eq!(recent[0], [1, 0, 0]);
        assert_eq!(*recent.last().unwrap(), [0, 0, 0]);
        assert_eq!(a.totals(), [3 + 2 * POINTS as u64, 1, 2]);
    }

    #[test]
    fn the_recorder_counts_the_three_outcomes_and_passes_everything_on() {
        let activity = Arc::new(Activity::default());
        let inner = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = inner.handle();
        let recorder = ActivityRecorder::new(inner, Arc::clone(&activity));
        metrics::with_local_recorder(&recorder, || {
            metrics::counter!(ALLOWED_TOTAL, "shadow" => "false").increment(5);
            metrics::counter!(LIMITED_TOTAL, "policy" => "default").increment(2);
            metrics::counter!(FAILED_OPEN_TOTAL).increment(1);
            metrics::counter!(ALLOWED_TOTAL, "shadow" => "false").increment(1);
            metrics::counter!("vigil_session_loads_total").increment(7);
        });
        assert_eq!(activity.totals(), [6, 2, 1]);
        assert_eq!(
            recorder.teed.read().len(),
            3,
            "one teed counter per label set"
        );
        let text = handle.render();
        assert!(
            text.contains("vigil_ratelimit_allowed_total{shadow=\"false\"} 6"),
            "{text}"
        );
        assert!(text.contains("vigil_session_loads_total 7"), "{text}");
    }
}
