//! [`Counters`]: a `metrics` recorder that counts, for tests that check what a layer reports
//! (and for counting backend calls through the counters a layer emits).
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

    /// Forgets every count.
    pub fn reset(&self) {
        for c in self.series.lock().values() {
            c.store(0, Ordering::SeqCst);
        }
    }
}

impl Recorder for Counters {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        let id = format!("{}{{{}}}", key.name(), labels.join(","));
        Counter::from_arc(self.series.lock().entry(id).or_default().clone())
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}
