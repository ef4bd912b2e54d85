//! Revocation generations never repeat (issue 12, item 13): once a key's generation key has
//! expired, the next revocation still draws a generation above every earlier one, so a fill
//! stamped with an old generation cannot match a new one (ABA).

use std::time::Duration;

use bytes::Bytes;
use tower_vigil_apikey::__private::{fill_record, read_record, revoke_record};
use tower_vigil_core::{Backend, MemoryBackend};

/// The hash of the key the records belong to.
const HASH: &str = "aba0";
const SHORT: Duration = Duration::from_millis(40);
const LONG: Duration = Duration::from_secs(600);

const RECORD: Bytes = Bytes::from_static(br#"{"v":1,"data":null}"#);

/// Revoke with a short generation TTL, read the generation (as a fill about to ask the store
/// would), let the generation key expire, revoke again: the new generation is greater, and
/// the fill stamped with the old one is refused.
pub(crate) async fn generations_stay_increasing_after_their_key_expires<B: Backend>(backend: B) {
    let first = revoke_record(&backend, HASH, SHORT).await.unwrap();
    let (_, stamped) = read_record(&backend, HASH).await.unwrap();
    assert_eq!(stamped, first);

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while read_record(&backend, HASH).await.unwrap().1 != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the generation key never expired"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let second = revoke_record(&backend, HASH, LONG).await.unwrap();
    assert!(
        second > first,
        "generation {second} after expiry does not exceed {first}"
    );
    let third = revoke_record(&backend, HASH, LONG).await.unwrap();
    assert!(third > second);
    assert!(
        !fill_record(&backend, HASH, stamped, &RECORD, LONG)
            .await
            .unwrap(),
        "a fill stamped with a generation from before the expiry was stored"
    );
    assert!(
        fill_record(&backend, HASH, third, &RECORD, LONG)
            .await
            .unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory() {
    generations_stay_increasing_after_their_key_expires(tower_vigil_tests::fixtures::memory())
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis() {
    generations_stay_increasing_after_their_key_expires(tower_vigil_tests::fixtures::redis().await)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster() {
    generations_stay_increasing_after_their_key_expires(
        tower_vigil_tests::fixtures::cluster().await,
    )
    .await;
}

/// With tokio's clock paused, revocations in one instant still increase, and the generation
/// key expiring (the clock advanced past its TTL) does not bring generations back down.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn memory_with_a_paused_clock() {
    let backend: MemoryBackend = tower_vigil_tests::fixtures::memory();
    let a = revoke_record(&backend, HASH, SHORT).await.unwrap();
    let b = revoke_record(&backend, HASH, SHORT).await.unwrap();
    assert!(b > a, "two revocations in one instant: {a} then {b}");
    tokio::time::advance(SHORT * 2).await;
    assert_eq!(read_record(&backend, HASH).await.unwrap().1, 0);
    let c = revoke_record(&backend, HASH, LONG).await.unwrap();
    assert!(c > b, "after expiry: {b} then {c}");
    assert!(!fill_record(&backend, HASH, b, &RECORD, LONG).await.unwrap());
}
