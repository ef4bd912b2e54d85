//! The session behaviour, written once and run on memory (paused clock), Redis and the
//! 3-master Redis Cluster: one `#[tokio::test]` per (case, backend).

#[path = "../common/mod.rs"]
mod common;

mod basics;
mod hostile_input;
mod per_user;
mod races;
mod revoke_races;
mod timeouts;

use std::time::Duration;

use tower_vigil_core::secret::SecretHasher;
use tower_vigil_session::token::SessionToken;
use tower_vigil_session::{SessionLayer, SessionStore};

use basics::*;
use common::Fixture;
use hostile_input::*;
use per_user::*;
use races::*;
use revoke_races::*;
use timeouts::*;

pub(crate) fn parse(token: &str) -> SessionToken {
    SessionToken::parse(token).expect("token")
}

pub(crate) fn id_hash(token: &str) -> String {
    parse(token).id_hash(&SecretHasher::sha256())
}

/// True when `token` opens a live session.
pub(crate) async fn exists<S: SessionStore>(store: &S, token: &str) -> bool {
    let (t, h) = (parse(token), SecretHasher::sha256());
    store
        .load(&t.key(&h), Some(&t.secret_hash(&h)))
        .await
        .unwrap()
        .is_some()
}

pub(crate) fn app_manager<S: Fixture>(store: &S) -> tower_vigil_session::SessionManager {
    SessionLayer::new(store.clone()).manager()
}

pub(crate) fn timed_layer<S: Fixture>(
    store: &S,
    unit: Duration,
    absolute: Option<Duration>,
) -> SessionLayer {
    SessionLayer::new(store.clone())
        .idle_timeout(unit * 4)
        .unwrap()
        .absolute_timeout(absolute)
        .unwrap()
}

on_every_backend!(
    lifecycle,
    fixation_cycle_id_kills_the_old_token,
    idle_expiry_and_refresh_on_use,
    absolute_expiry_despite_activity,
    ttl_refresh_is_throttled,
    concurrent_writes_to_different_fields_are_both_kept,
    logout_racing_a_write_does_not_resurrect,
    revoke_all_touches_only_that_users_sessions,
    list_user_sessions_reports_live_sessions,
    bad_cookies_give_no_session_and_no_backend_call,
    no_raw_token_anywhere_in_the_store,
    login_racing_revoke_all_stays_indexed,
    logins_racing_revoke_all_leave_no_live_session,
    user_index_stays_bounded_by_live_sessions,
    active_sessions_renew_their_index_entry,
    pre_login_requests_keep_the_new_cookie,
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
