//! Shared test support: a small app behind the layer, a metrics recorder local to the test
//! thread, and key dumps of the real Redis servers.
#![allow(dead_code, unreachable_pub)]

pub mod app;
pub mod dump;
pub mod gated;

use std::time::Duration;

use tower_vigil_core::Backend;
use tower_vigil_core::secret::SecretHasher;
use tower_vigil_session::__private::{self, SessionToken};
use tower_vigil_session::{SessionAdmin, SessionManagerLayer};

// Not every test binary uses every helper.
#[allow(unused_imports)]
pub use {app::App, dump::Fixture, tower_vigil_tests::metrics::Counters as Counts};

pub fn parse(token: &str) -> SessionToken {
    SessionToken::parse(token).expect("token")
}

/// The hash `token`'s session is stored and listed under (default hasher).
pub fn id_hash(token: &str) -> String {
    parse(token).id_hash(&SecretHasher::sha256())
}

/// True when `token` opens a live session.
pub async fn exists<B: Backend>(store: &B, token: &str) -> bool {
    let (t, h) = (parse(token), SecretHasher::sha256());
    __private::load(store, &t.key(&h), Some(&t.secret_hash(&h)))
        .await
        .unwrap()
        .is_some()
}

/// The admin handle of a default layer on `store`.
pub fn admin<S: Fixture>(store: &S) -> SessionAdmin {
    SessionManagerLayer::new(store.clone()).admin()
}

/// A layer whose idle timeout is `4 * unit`, with the absolute timeout `absolute`.
pub fn timed_layer<S: Fixture>(
    store: &S,
    unit: Duration,
    absolute: Option<Duration>,
) -> SessionManagerLayer {
    SessionManagerLayer::builder(store.clone())
        .idle_timeout(unit * 4)
        .absolute_timeout(absolute)
        .build()
        .unwrap()
}

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
            #[tokio::test]
            async fn sentinel() {
                super::$case(tower_vigil_tests::fixtures::sentinel().await, std::time::Duration::from_millis(250)).await;
            }
        }
    )*};
}
