//! The cache and revocation suite, written once and run on memory, Redis and Redis Cluster,
//! plus the failure-policy, subscription-loss and script-equivalence tests.

#[path = "../common/mod.rs"]
mod common;

mod backends;
mod cases;
mod concurrency;
mod failure_policy;
mod generations;
mod scripts_match;
mod subscription_loss;

/// One `#[tokio::test]` per (case, backend).
macro_rules! suite {
    ($($module:ident :: $case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::$module::$case(tower_vigil_tests::fixtures::memory()).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::$module::$case(tower_vigil_tests::fixtures::redis().await).await;
                }
            )*
        }
        mod cluster {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::$module::$case(tower_vigil_tests::fixtures::cluster().await).await;
                }
            )*
        }
    };
}

suite!(
    cases::single_flight_100_cold_requests_make_one_store_lookup,
    cases::unknown_keys_are_cached_negatively_in_both_tiers,
    cases::a_second_instance_is_served_from_l2_without_a_store_lookup,
    cases::revocation_reaches_a_second_instance_within_one_second,
    cases::a_fill_racing_a_revocation_does_not_resurrect_the_key,
    cases::creating_a_key_after_a_negative_hit_takes_effect_on_invalidate,
    cases::expired_keys_are_rejected,
    cases::permissions_are_checked_per_route,
    cases::badly_formatted_keys_never_reach_the_caches_or_the_store,
    concurrency::a_storm_of_unknown_keys_reaches_the_store_once_per_key,
    concurrency::two_instances_storming_a_cold_key_make_one_lookup_each,
);
