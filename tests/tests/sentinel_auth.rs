//! A Sentinel backend's two sets of credentials: the sentinels' ACL user in their URLs, the
//! master's set apart with `master_auth`. Each is sent where it belongs: a wrong one of either
//! fails to connect, the right pair works and the master sees the master's user.

use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::{Backend, BackendErrorKind, RedisBackend};
use tower_vigil_tests::{RedisSentinel, fixtures};

fn sentinel_urls(setup: &RedisSentinel, user: &str, password: &str) -> Vec<String> {
    setup
        .sentinel_ports()
        .iter()
        .map(|p| format!("redis://{user}:{password}@127.0.0.1:{p}"))
        .collect()
}

async fn connect(
    setup: &RedisSentinel,
    sentinel_password: &str,
    master_password: &str,
) -> Result<RedisBackend, tower_vigil_core::BackendError> {
    RedisBackend::sentinel_builder(
        sentinel_urls(setup, "watcher", sentinel_password),
        setup.master_name(),
    )
    .master_auth(Some("app"), master_password)
    .prefix(fixtures::unique_prefix())
    .timeout(Duration::from_secs(2))
    .connect()
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sentinels_and_the_master_take_their_own_credentials() {
    let setup = tokio::task::spawn_blocking(RedisSentinel::start)
        .await
        .unwrap();
    for port in setup.data_ports() {
        let set = setup.command_on(
            port,
            &[
                "ACL", "SETUSER", "app", "on", ">secret", "~*", "&*", "+@all",
            ],
        );
        assert_eq!(set.as_deref(), Some("+OK"));
    }
    for port in setup.sentinel_ports() {
        let set = setup.command_on(
            port,
            &["ACL", "SETUSER", "watcher", "on", ">watch", "+@all"],
        );
        assert_eq!(set.as_deref(), Some("+OK"));
    }

    let backend = connect(&setup, "watch", "secret").await.unwrap();
    backend
        .set("k", Bytes::from_static(b"v"), Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        backend.get("k").await.unwrap(),
        Some(Bytes::from_static(b"v"))
    );
    let clients = setup.master_command(&["CLIENT", "LIST"]).unwrap();
    assert!(
        clients.lines().any(|c| c.contains(" user=app ")),
        "the master sees the master's user:\n{clients}"
    );

    let wrong_master = connect(&setup, "watch", "nope").await.unwrap_err();
    assert_ne!(
        wrong_master.kind(),
        BackendErrorKind::Config,
        "{wrong_master}"
    );
    let wrong_sentinel = connect(&setup, "nope", "secret").await.unwrap_err();
    assert_ne!(
        wrong_sentinel.kind(),
        BackendErrorKind::Config,
        "{wrong_sentinel}"
    );
}
