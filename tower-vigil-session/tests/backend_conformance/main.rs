//! The session behaviour, written once and run on memory (paused clock), Redis and the
//! 3-master Redis Cluster: one `#[tokio::test]` per (case, backend). What must hold under
//! concurrent requests is in `concurrency/`.

#[path = "../common/mod.rs"]
mod common;

mod basics;
mod hostile_input;
mod per_user;
mod timeouts;

use basics::*;
use hostile_input::*;
use per_user::*;
use timeouts::*;

on_every_backend!(
    lifecycle,
    fixation_cycle_id_kills_the_old_token,
    idle_expiry_and_refresh_on_use,
    absolute_expiry_despite_activity,
    a_read_past_the_absolute_expiry_deletes_the_session,
    ttl_refresh_is_throttled,
    revoke_all_touches_only_that_users_sessions,
    list_user_sessions_reports_live_sessions,
    bad_cookies_give_no_session_and_no_backend_call,
    no_raw_token_anywhere_in_the_store,
    user_index_stays_bounded_by_live_sessions,
    active_sessions_renew_their_index_entry,
);
