//! Revocation generations never repeat (issue 12, item 13): once a key's generation key has
//! expired, the next revocation still draws a generation above every earlier one, so a fill
//! stamped with an old generation cannot match a new one (ABA).

use std::time::Duration;

use bytes::Bytes;
use tower_vigil_apikey::ApiKeyBackend;
use tower_vigil_core::MemoryBackend;

const RECORD: &str = "apikey:{aba0}";
const REV: &str = "apikey:{aba0}:rev";
const SHORT: Duration = Duration::from_millis(40);
const LONG: Duration = Duration::from_secs(600);

fn record() -> Bytes {
    Bytes::from_static(br#"{"v":1,"data":null}"#)
}

/// Revoke with a short generation TTL, read the generation (as a fill about to ask the store
/// would), let the generation key expire, revoke again: the new generation is greater, and
/// the fill stamped with the old one is refused.
pub(crate) async fn generations_stay_increasing_after_their_key_expires<B: ApiKeyBackend>(
    backend: B,
) {
    let first = backend.revoke_record(RECORD, REV, SHORT).await.unwrap();
    let (_, stamped) = backend.read_record(RECORD, REV).await.unwrap();
    assert_eq!(stamped, first);

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while backend.read_record(RECORD, REV).await.unwrap().1 != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the generation key never expired"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let second = backend.revoke_record(RECORD, REV, LONG).await.unwrap();
    assert!(
        second > first,
        "generation {second} after expiry does not exceed {first}"
    );
    let third = backend.revoke_record(RECORD, REV, LONG).await.unwrap();
    assert!(third > second);
    assert!(
        !backend
            .fill_record(RECORD, REV, stamped, record(), LONG)
            .await
            .unwrap(),
        "a fill stamped with a generation from before the expiry was stored"
    );
    assert!(
        backend
            .fill_record(RECORD, REV, third, record(), LONG)
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
    let a = backend.revoke_record(RECORD, REV, SHORT).await.unwrap();
    let b = backend.revoke_record(RECORD, REV, SHORT).await.unwrap();
    assert!(b > a, "two revocations in one instant: {a} then {b}");
    tokio::time::advance(SHORT * 2).await;
    assert_eq!(backend.read_record(RECORD, REV).await.unwrap().1, 0);
    let c = backend.revoke_record(RECORD, REV, LONG).await.unwrap();
    assert!(c > b, "after expiry: {b} then {c}");
    assert!(
        !backend
            .fill_record(RECORD, REV, b, record(), LONG)
            .await
            .unwrap()
    );
}
