//! The worker's tower stack in process, on the memory backend and a paused clock:
//! `ExactlyOnceLayer` over `Analyse` runs a job once and answers a duplicate from the ledger,
//! and the shared cap on analyser calls holds.

use std::time::Duration;

use bytes::Bytes;
use detection_worker::analyse::{Analyse, Delivery};
use detection_worker::sink::Sink;
use rusqlite::Connection;
use tower::{ServiceBuilder, ServiceExt};
use tower_vigil_idempotency::work::{ExactlyOnceLayer, WorkLedger};
use tower_vigil_ratelimit::{Policy, Quota};
use vigil_api::jobs::{AnalyzeJob, JobResult};

fn delivery(i: usize) -> Delivery {
    let job = AnalyzeJob::new(format!("job-{i}"), format!("key:{}", i % 3), "hello");
    Delivery {
        body: job.to_bytes(),
        job,
    }
}

fn stack(
    dir: &std::path::Path,
    cap: Option<u32>,
) -> tower_vigil_idempotency::work::ExactlyOnce<
    Analyse<tower_vigil_core::MemoryBackend>,
    tower_vigil_core::MemoryBackend,
> {
    let backend = tower_vigil_tests::fixtures::memory();
    let ledger = WorkLedger::new(backend.clone(), "analyze-jobs").unwrap();
    ServiceBuilder::new()
        .layer(ExactlyOnceLayer::new(ledger))
        .service(Analyse {
            backend,
            sink: Sink::open(&dir.join("results.db")).unwrap(),
            name: "w".into(),
            lease: Duration::from_secs(10),
            cap: cap.map(|n| Policy::new("analyser", Quota::per_second(n)).unwrap()),
            slow: None,
        })
}

#[tokio::test]
async fn a_duplicate_delivery_is_answered_from_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let svc = stack(dir.path(), None);
    let first = svc.clone().oneshot(delivery(1)).await.unwrap();
    assert!(!first.is_replayed());
    let again = svc.clone().oneshot(delivery(1)).await.unwrap();
    assert!(again.is_replayed());
    let result = JobResult::from_bytes(again.outcome()).unwrap();
    assert_eq!(result, JobResult::of(&delivery(1).job));
    let db = Connection::open(dir.path().join("results.db")).unwrap();
    let effects: i64 = db
        .query_row("SELECT COUNT(*) FROM effects", [], |r| r.get(0))
        .unwrap();
    assert_eq!(effects, 1);
    // The same id with another body is refused, not run.
    let mut other = delivery(1);
    other.body = Bytes::from_static(b"{}");
    assert!(svc.oneshot(other).await.is_err());
}

#[tokio::test(start_paused = true)]
async fn the_cap_on_analyser_calls_holds_across_concurrent_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let svc = stack(dir.path(), Some(5));
    let start = tokio::time::Instant::now();
    let runs: Vec<_> = (0..20)
        .map(|i| tokio::spawn(svc.clone().oneshot(delivery(i))))
        .collect();
    for r in runs {
        assert!(!r.await.unwrap().unwrap().is_replayed());
    }
    // 20 calls at 5 per second (a burst of 5, then one per 200 ms) take at least 3 s of the
    // paused clock; a cap that let more through would finish sooner.
    assert!(
        start.elapsed() >= Duration::from_millis(2_900),
        "{:?}",
        start.elapsed()
    );
}
