//! What every concern crate's `metrics.rs` shares: registering each metric's description (so
//! an exporter prints `# HELP` lines) and timing a backend call into a latency histogram.
//!
//! Each crate keeps its own names and descriptions; these two helpers keep the rules the same
//! across the family: a name ending in `_seconds` is a histogram in seconds, every other one
//! a counter; a call is timed whether it succeeds or fails.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use tower_vigil_core::metrics::{Timer, describe, timed};
//!
//! const DURATION: &str = "vigil_demo_backend_duration_seconds";
//! const ALL: [(&str, &str); 2] = [
//!     ("vigil_demo_total", "Demo requests."),
//!     (DURATION, "Duration of demo backend calls."),
//! ];
//! const GET: &Timer = &Timer::new(DURATION, "get");
//! describe(&ALL);
//! let answer = timed(GET, async { 42 }).await;
//! assert_eq!(answer, 42);
//! # }
//! ```

use std::future::Future;
use std::time::{Duration, Instant};

use metrics::{Key, Label, Level, Metadata, Unit};

/// Registers the description and unit of every `(name, description)` in `all` with the
/// current recorder: names ending in `_seconds` as histograms in seconds, the others as counts.
/// Idempotent (a recorder keeps the last description of a name).
pub fn describe(all: &[(&'static str, &'static str)]) {
    for &(name, help) in all {
        if name.ends_with("_seconds") {
            metrics::describe_histogram!(name, Unit::Seconds, help);
        } else {
            metrics::describe_counter!(name, Unit::Count, help);
        }
    }
}

/// A latency histogram and its `op` label, made once as a constant: recording through it
/// builds no key. (The `histogram!` macro with a label value that is not a literal allocates
/// the label list on every call, recorder or not: a visible share of an in-process decision.)
#[derive(Debug)]
pub struct Timer {
    histogram: &'static str,
    op: &'static str,
    labels: [Label; 1],
}

/// Where the timings are recorded from, for recorders that filter by it.
static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

impl Timer {
    /// The histogram `histogram` (a name ending in `_seconds`), labelled `op = op`.
    pub const fn new(histogram: &'static str, op: &'static str) -> Self {
        Self {
            histogram,
            op,
            labels: [Label::from_static_parts("op", op)],
        }
    }

    /// The histogram's name.
    pub fn histogram(&self) -> &'static str {
        self.histogram
    }

    /// The `op` label's value.
    pub fn op(&self) -> &'static str {
        self.op
    }

    /// Records one call that took `elapsed`.
    pub fn record(&'static self, elapsed: Duration) {
        let key = Key::from_static_parts(self.histogram, &self.labels);
        metrics::with_recorder(|r| r.register_histogram(&key, &METADATA)).record(elapsed);
    }
}

/// Runs `call` (a backend call answered on the caller's thread, such as
/// [`Backend::run_now`](crate::Backend::run_now)) and records how long it took as
/// [`timed`] does; a `None` (the backend could not answer at once) is not recorded.
pub fn timed_now<T>(timer: &'static Timer, call: impl FnOnce() -> Option<T>) -> Option<T> {
    let started = Instant::now();
    let out = call()?;
    timer.record(started.elapsed());
    Some(out)
}

/// Awaits `call` and records how long it took with `timer`, failed calls included.
pub async fn timed<T>(timer: &'static Timer, call: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let out = call.await;
    timer.record(started.elapsed());
    out
}
