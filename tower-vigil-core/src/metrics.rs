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
//! use tower_vigil_core::metrics::{describe, timed};
//!
//! const ALL: [(&str, &str); 2] = [
//!     ("vigil_demo_total", "Demo requests."),
//!     ("vigil_demo_backend_duration_seconds", "Duration of demo backend calls."),
//! ];
//! describe(&ALL);
//! let answer = timed("vigil_demo_backend_duration_seconds", "get", async { 42 }).await;
//! assert_eq!(answer, 42);
//! # }
//! ```

use std::future::Future;
use std::time::Instant;

use metrics::Unit;

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

/// Runs `call` (a backend call answered on the caller's thread, such as
/// [`Backend::run_now`](crate::Backend::run_now)) and records how long it took as
/// [`timed`] does; a `None` (the backend could not answer at once) is not recorded.
pub fn timed_now<T>(
    histogram: &'static str,
    op: &'static str,
    call: impl FnOnce() -> Option<T>,
) -> Option<T> {
    let started = Instant::now();
    let out = call()?;
    metrics::histogram!(histogram, "op" => op).record(started.elapsed());
    Some(out)
}

/// Awaits `call` and records how long it took in the histogram `histogram`, labelled
/// `op = op`, failed calls included.
pub async fn timed<T>(
    histogram: &'static str,
    op: &'static str,
    call: impl Future<Output = T>,
) -> T {
    let started = Instant::now();
    let out = call.await;
    metrics::histogram!(histogram, "op" => op).record(started.elapsed());
    out
}
