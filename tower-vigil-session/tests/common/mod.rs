//! Shared test support: a small app behind the layer, a metrics recorder local to the test
//! thread, and key dumps of the real Redis servers.
#![allow(dead_code, unreachable_pub)]

pub mod app;
pub mod dump;
pub mod gated;

// Not every test binary uses every helper.
#[allow(unused_imports)]
pub use {app::App, dump::Fixture, tower_vigil_tests::metrics::Counters as Counts};

/// One `#[tokio::test]` per (case, backend): memory on a paused clock, Redis and the
/// 3-master cluster in real time. Each case is `async fn(store, unit)` where `unit` scales
/// the timeouts it uses (a minute in memory, 250 ms on Redis).
#[macro_export]
macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test(start_paused = true)]
            async fn memory() {
                super::$case(tower_vigil_tests::fixtures::memory(), std::time::Duration::from_secs(60)).await;
            }
            #[tokio::test]
            async fn redis() {
                super::$case(tower_vigil_tests::fixtures::redis().await, std::time::Duration::from_millis(250)).await;
            }
            #[tokio::test]
            async fn cluster() {
                super::$case(tower_vigil_tests::fixtures::cluster().await, std::time::Duration::from_millis(250)).await;
            }
        }
    )*};
}
