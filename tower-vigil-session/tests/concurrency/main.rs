//! What must hold when requests and admin calls on the same sessions run at once, on memory
//! (paused clock, and a multi-threaded runtime), Redis and the 3-master Redis Cluster:
//! field-level writes both kept, a logout never undone by a racing write, a login racing
//! "log out everywhere" still found by the next one, pre-login requests never clearing the
//! new cookie.

#[path = "../common/mod.rs"]
mod common;

mod races;
mod revoke_races;

use races::*;
use revoke_races::*;

on_every_backend!(
    concurrent_writes_to_different_fields_are_both_kept,
    logout_racing_a_write_does_not_resurrect,
    pre_login_requests_keep_the_new_cookie,
    login_racing_revoke_all_stays_indexed,
    logins_racing_revoke_all_leave_no_live_session,
);

/// Issue 13: the storms again on the memory backend from a multi-threaded runtime, where
/// requests really run at once (the paused clock above runs them on one thread).
mod threaded_memory {
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn logins_racing_revoke_all_leave_no_live_session() {
        let store = tower_vigil_tests::fixtures::memory();
        super::logins_racing_revoke_all_leave_no_live_session(store, Duration::from_secs(60)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_writes_to_different_fields_are_both_kept() {
        let store = tower_vigil_tests::fixtures::memory();
        super::concurrent_writes_to_different_fields_are_both_kept(store, Duration::from_secs(60))
            .await;
    }
}
