//! [`Counters`]: a `metrics` recorder that counts, for tests that check what a layer reports
//! (and for counting backend calls through the counters a layer emits). It also keeps the
//! descriptions registered with `describe_*` ([`Counters::description`]) and how many values
//! each histogram series received ([`Counters::samples`]).
//!
//! Install it for the current thread with [`Counters::install`] (tokio's current-thread test
//! runtime runs every future there), or globally with `metrics::set_global_recorder`.
//!
//! ```
//! use tower_vigil_tests::metrics::Counters;
//!
//! let counters = Counters::default();
//! let _guard = counters.install();
//! metrics::counter!("vigil_demo_total", "policy" => "default").increment(2);
//! metrics::counter!("vigil_demo_total", "policy" => "login").increment(1);
//! assert_eq!(counters.get("vigil_demo_total"), 3);
//! assert_eq!(counters.series("vigil_demo_total{policy=login}"), 1);
//!
//! metrics::describe_counter!("vigil_demo_total", "Demo requests.");
//! assert_eq!(counters.description("vigil_demo_total").unwrap().1, "Demo requests.");
//! metrics::histogram!("vigil_demo_seconds", "op" => "get").record(0.5);
//! assert_eq!(counters.samples("vigil_demo_seconds{op=get}"), 1);
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use parking_lot::Mutex;

/// Counter values by series, `name{label=value,…}` (labels in the order emitted).
#[derive(Debug, Default, Clone)]
pub struct Counters {
    series: Arc<Mutex<HashMap<String, Arc<AtomicU64>>>>,
    histograms: Arc<Mutex<HashMap<String, Arc<Samples>>>>,
    descriptions: Arc<Mutex<HashMap<String, Description>>>,
}

/// The unit and help text a `describe_*` call registered.
type Description = (Option<Unit>, String);

/// A histogram that counts the values it receives.
#[derive(Debug, Default)]
struct Samples(AtomicU64);

impl metrics::HistogramFn for Samples {
    fn record(&self, _: f64) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// `name{label=value,…}` for a key, labels in the order emitted.
fn series_id(key: &Key) -> String {
    let labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}={}", l.key(), l.value()))
        .collect();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

impl Counters {
    /// Records into these counters on the current thread while the guard lives.
    pub fn install(&self) -> metrics::LocalRecorderGuard<'_> {
        metrics::set_default_local_recorder(self)
    }

    /// The sum of every series of the counter `name`, whatever its labels.
    pub fn get(&self, name: &str) -> u64 {
        self.series
            .lock()
            .iter()
            .filter(|(id, _)| id.split('{').next() == Some(name))
            .map(|(_, c)| c.load(Ordering::SeqCst))
            .sum()
    }

    /// One series, named `name{label=value,…}` (`name{}` without labels).
    pub fn series(&self, id: &str) -> u64 {
        self.series
            .lock()
            .get(id)
            .map_or(0, |c| c.load(Ordering::SeqCst))
    }

    /// How many values the histogram series `name{label=value,…}` received.
    pub fn samples(&self, id: &str) -> u64 {
        self.histograms
            .lock()
            .get(id)
            .map_or(0, |h| h.0.load(Ordering::SeqCst))
    }

    /// The histogram series of `name` that received a value, as `name{label=value,…}`.
    pub fn histogram_series(&self, name: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .histograms
            .lock()
            .iter()
            .filter(|(id, h)| id.split('{').next() == Some(name) && h.0.load(Ordering::SeqCst) > 0)
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// The unit and description registered for `name` by a `describe_*` call, if any.
    pub fn description(&self, name: &str) -> Option<Description> {
        self.descriptions.lock().get(name).cloned()
    }

    /// Runs `f` on a fresh current-thread runtime with these counters as the thread's recorder,
    /// so everything the future records (on any task of that runtime) is counted here.
    pub fn run<F: std::future::Future>(&self, f: impl FnOnce() -> F) -> F::Output {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime");
        metrics::with_local_recorder(self, || rt.block_on(f()))
    }

    /// Asserts every `(name, description)` of a crate's `metrics::ALL` was described with that
    /// text: names ending in `_seconds` as histograms in seconds, the others as counts.
    pub fn assert_described(&self, all: &[(&str, &str)]) {
        for (name, help) in all {
            let unit = if name.ends_with("_seconds") {
                Unit::Seconds
            } else {
                Unit::Count
            };
            assert_eq!(
                self.description(name),
                Some((Some(unit), (*help).to_owned())),
                "{name}"
            );
        }
    }

    /// Forgets every count.
    pub fn reset(&self) {
        for c in self.series.lock().values() {
            c.store(0, Ordering::SeqCst);
        }
        for h in self.histograms.lock().values() {
            h.0.store(0, Ordering::SeqCst);
        }
    }
}

impl Counters {
    fn describe(&self, name: KeyName, unit: Option<Unit>, help: SharedString) {
        self.descriptions
            .lock()
            .insert(name.as_str().to_owned(), (unit, help.into_owned()));
    }
}

impl Recorder for Counters {
    fn describe_counter(&self, name: KeyName, unit: Option<Unit>, help: SharedString) {
        self.describe(name, unit, help);
    }
    fn describe_gauge(&self, name: KeyName, unit: Option<Unit>, help: SharedString) {
        self.describe(name, unit, help);
    }
    fn describe_histogram(&self, name: KeyName, unit: Option<Unit>, help: SharedString) {
        self.describe(name, unit, help);
    }

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let id = series_id(key);
        Counter::from_arc(self.series.lock().entry(id).or_default().clone())
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        let id = series_id(key);
        Histogram::from_arc(self.histograms.lock().entry(id).or_default().clone())
    }
}
