//! The Backend conformance suite on memory, standalone Redis and a 3-master Redis Cluster.

tower_vigil_tests::backend_conformance!(
    get_set_delete,
    ttl_expiry,
    set_nx_exactly_one_wins,
    compare_and_delete_checks_the_owner,
    counters_keep_their_window,
    sets_with_ttl,
    hashes_are_field_level,
    hash_read_gives_fields_and_ttl,
    wrong_type_is_an_error,
    pubsub_delivers_in_order,
    leases_and_fencing_tokens,
    lock_is_exclusive_under_contention,
    lock_loss_is_signalled,
    lock_loss_is_signalled_within_the_lease,
    absurd_ttls_are_capped,
    health_reports_a_live_backend,
    scripts_run_atomically,
    scripts_span_keys_of_one_tag,
    script_misuse_is_an_error,
    scripts_see_the_backend_clock,
);
