//! The cache and revocation suite, written once and run on memory, Redis and Redis Cluster,
//! plus the failure-policy, subscription-loss and script-equivalence tests.

#[path = "../common/mod.rs"]
mod common;

mod backends;
mod cases;
mod failure_policy;
mod generations;
mod scripts_match;
mod subscription_loss;

/// One `#[tokio::test]` per (case, backend).
macro_rules! suite {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::cases::$case(tower_vigil_tests::fixtures::memory()).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::cases::$case(tower_vigil_tests::fixtures::redis().await).await;
                }
            )*
        }
        mod cluster {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::cases::$case(tower_vigil_tests::fixtures::cluster().await).await;
                }
            )*
        }
    };
}

suite!(
    single_flight_100_cold_requests_make_one_store_lookup,
    unknown_keys_are_cached_negatively_in_both_tiers,
    a_second_instance_is_served_from_l2_without_a_store_lookup,
    revocation_reaches_a_second_instance_within_one_second,
    a_fill_racing_a_revocation_does_not_resurrect_the_key,
    creating_a_key_after_a_negative_hit_takes_effect_on_invalidate,
    expired_keys_are_rejected,
    permissions_are_checked_per_route,
    badly_formatted_keys_never_reach_the_caches_or_the_store,
);
