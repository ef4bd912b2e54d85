//! A `metrics` recorder for the current thread, to count backend calls in one test
//! (tokio tests run on one thread, so the layer's futures record here).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use parking_lot::Mutex;

#[derive(Default, Clone)]
pub struct Counts {
    counters: Arc<Mutex<HashMap<String, Arc<AtomicU64>>>>,
}

impl Counts {
    pub fn get(&self, name: &str) -> u64 {
        self.counters
            .lock()
            .get(name)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Installs this recorder on the current thread while the guard lives.
    pub fn install(&self) -> metrics::LocalRecorderGuard<'_> {
        metrics::set_default_local_recorder(self)
    }
}

impl Recorder for Counts {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let c = self
            .counters
            .lock()
            .entry(key.name().to_owned())
            .or_default()
            .clone();
        Counter::from_arc(c)
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}
