//! The [`Backend`](tower_vigil_core::Backend) conformance suite, written once and run on every backend.
//!
//! Each case is a generic async function; [`backend_conformance!`](crate::backend_conformance)
//! turns the list into one `#[tokio::test]` per case and backend (memory with tokio's paused
//! clock, standalone Redis, Redis Cluster, Redis Sentinel). A third-party backend can run the same cases.
//!
//! Waits use `tokio::time::sleep`: instant on the paused clock, real time on Redis, where TTLs
//! are kept short.
//!
//! The cases are filed by what they exercise: `primitives` (keys, TTLs, counters, sets,
//! hashes, `hash_read`), `scripts` ([`Backend::run`](tower_vigil_core::Backend::run)), `pubsub`, `leases` (leases, fencing tokens and `Lock`) and `health`.

mod health;
mod leases;
mod primitives;
mod pubsub;
mod scripts;

use std::time::Duration;

use bytes::Bytes;

pub use self::health::health_reports_a_live_backend;
pub use self::leases::{
    leases_and_fencing_tokens, lock_is_exclusive_under_contention, lock_loss_is_signalled,
    lock_loss_is_signalled_within_the_lease,
};
pub use self::primitives::{
    absurd_ttls_are_capped, compare_and_delete_checks_the_owner, counters_keep_their_window,
    get_set_delete, hash_read_gives_fields_and_ttl, hashes_are_field_level,
    set_nx_exactly_one_wins, sets_with_ttl, ttl_expiry, wrong_type_is_an_error,
};
pub use self::pubsub::pubsub_delivers_in_order;
pub use self::scripts::{
    run_now_answers_as_run_or_never, script_misuse_is_an_error, scripts_run_atomically,
    scripts_see_the_backend_clock, scripts_span_keys_of_one_tag,
};

const LONG: Duration = Duration::from_secs(60);
const SHORT: Duration = Duration::from_millis(200);
const PAST_SHORT: Duration = Duration::from_millis(350);

fn b(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}

/// A backend with only the trait's required methods forwarded: every provided method runs its
/// core script through [`Backend::run`](tower_vigil_core::Backend::run), as on a third-party backend, even where the inner
/// backend overrides it ([`RedisBackend::hash_read`](tower_vigil_core::RedisBackend)).
type ScriptsOnly<B> = crate::intercept::Intercepted<B, ()>;

/// Generates one test per case and backend: `memory::case`, `redis::case`, `cluster::case`,
/// `sentinel::case`.
#[macro_export]
macro_rules! backend_conformance {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(start_paused = true)]
                async fn $case() {
                    $crate::conformance::$case($crate::fixtures::memory()).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    $crate::conformance::$case($crate::fixtures::redis().await).await;
                }
            )*
        }
        mod cluster {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    $crate::conformance::$case($crate::fixtures::cluster().await).await;
                }
            )*
        }
        mod sentinel {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    $crate::conformance::$case($crate::fixtures::sentinel().await).await;
                }
            )*
        }
    };
}
