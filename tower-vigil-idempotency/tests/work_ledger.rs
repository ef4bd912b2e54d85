//! Idempotency without HTTP: the [`WorkLedger`] and the [`ExactlyOnceLayer`] hold the same
//! promises as the HTTP layer (one run of concurrent duplicates, a reused id refused, a
//! lapsed lease taken over, a stale owner unable to write) on memory, Redis and the cluster.

mod common;

use std::borrow::Cow;
use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use tower::{Layer, Service, ServiceExt};
use tower_vigil_core::Backend;
use tower_vigil_idempotency::work::{
    ExactlyOnceLayer, Job, JobOutcome, WorkClaim, WorkErrorKind, WorkLedger, WorkState,
};

use common::Counter;

const LEASE: Duration = Duration::from_millis(300);

fn ledger<B: Backend>(backend: B, scope: &str) -> WorkLedger<B> {
    WorkLedger::builder(backend, scope)
        .lease(LEASE)
        .build()
        .unwrap()
}

/// Work that counts its runs and answers after `took`.
fn counted(
    counter: &Counter,
    took: Duration,
) -> impl FnOnce() -> std::pin::Pin<Box<dyn Future<Output = Result<String, Infallible>> + Send>> {
    let counter = counter.clone();
    move || {
        Box::pin(async move {
            let run = counter.bump();
            tokio::time::sleep(took).await;
            Ok(format!("run {run}"))
        })
    }
}

async fn a_unit_runs_once_and_duplicates_get_its_outcome<B: Backend>(b: B) {
    let ledger = ledger(b, "runs-once");
    let counter = Counter::default();
    let first = ledger
        .run("job-1", b"p", counted(&counter, Duration::ZERO))
        .await
        .unwrap();
    assert!(!first.is_replayed());
    for _ in 0..3 {
        let again = ledger
            .run("job-1", b"p", counted(&counter, Duration::ZERO))
            .await
            .unwrap();
        assert!(again.is_replayed());
        assert_eq!(again.outcome(), "run 1");
    }
    assert_eq!(counter.get(), 1);
}

async fn of_200_concurrent_deliveries_exactly_one_runs<B: Backend>(b: B) {
    let ledger = ledger(b, "race");
    let counter = Counter::default();
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let (ledger, counter) = (ledger.clone(), counter.clone());
            tokio::spawn(async move {
                ledger
                    .run(
                        "job-race",
                        b"p",
                        counted(&counter, Duration::from_millis(100)),
                    )
                    .await
            })
        })
        .collect();
    let (mut ran, mut in_flight, mut replayed) = (0, 0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(done) if done.is_replayed() => replayed += 1,
            Ok(_) => ran += 1,
            Err(e) => {
                assert_eq!(e.kind(), WorkErrorKind::InFlight, "{e}");
                assert!(e.retry_after().unwrap() <= LEASE);
                in_flight += 1;
            }
        }
    }
    assert_eq!(
        (ran, counter.get()),
        (1, 1),
        "{in_flight} in flight, {replayed} replayed"
    );
    assert_eq!(ran + in_flight + replayed, 200);
}

async fn an_id_reused_with_another_payload_is_a_mismatch<B: Backend>(b: B) {
    let ledger = ledger(b, "mismatch");
    let WorkClaim::Run(ticket) = ledger.claim("job-m", b"a").await.unwrap() else {
        panic!("free")
    };
    assert!(matches!(
        ledger.claim("job-m", b"b").await.unwrap(),
        WorkClaim::Mismatch
    ));
    ticket.complete(&Bytes::from_static(b"done")).await.unwrap();
    let err = ledger
        .run("job-m", b"b", || async { Ok::<_, Infallible>(()) })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), WorkErrorKind::Mismatch);
    assert_eq!(err.retry_after(), None);
    // The right payload still gets the outcome.
    assert!(matches!(
        ledger.claim("job-m", b"a").await.unwrap(),
        WorkClaim::Done(outcome) if outcome == "done"
    ));
}

async fn failed_work_releases_its_id_and_runs_again<B: Backend>(b: B) {
    let ledger = ledger(b, "failure");
    let err = ledger
        .run("job-f", b"p", || async {
            Err::<String, _>("downstream 503")
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), WorkErrorKind::Failed);
    assert_eq!(err.into_failure(), Some("downstream 503"));
    let counter = Counter::default();
    let retried = ledger
        .run("job-f", b"p", counted(&counter, Duration::ZERO))
        .await
        .unwrap();
    assert!(!retried.is_replayed());
    assert_eq!(counter.get(), 1);
}

async fn a_lapsed_lease_is_taken_over_and_the_stale_owner_cannot_write<B: Backend>(b: B) {
    let ledger = ledger(b, "lapse");
    let WorkClaim::Run(stale) = ledger.claim("job-l", b"p").await.unwrap() else {
        panic!("free")
    };
    // The first worker stalls past its lease without renewing (a GC pause, a SIGSTOP).
    tokio::time::sleep(LEASE + Duration::from_millis(100)).await;
    let WorkClaim::Run(next) = ledger.claim("job-l", b"p").await.unwrap() else {
        panic!("a lapsed lease frees the id")
    };
    assert!(!stale.extend().await.unwrap());
    let err = stale
        .complete(&Bytes::from_static(b"late"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), WorkErrorKind::LeaseLost);
    // Nor can it release the new holder's claim.
    let WorkClaim::InFlight { .. } = ledger.claim("job-l", b"p").await.unwrap() else {
        panic!("the next holder still holds it")
    };
    next.complete(&Bytes::from_static(b"on time"))
        .await
        .unwrap();
    assert_eq!(
        ledger.peek("job-l").await.unwrap(),
        Some(WorkState::Done(Bytes::from_static(b"on time")))
    );
}

async fn a_stale_owner_cannot_release_the_next_holders_claim<B: Backend>(b: B) {
    let ledger = ledger(b, "owner");
    let WorkClaim::Run(stale) = ledger.claim("job-o", b"p").await.unwrap() else {
        panic!("free")
    };
    tokio::time::sleep(LEASE + Duration::from_millis(100)).await;
    let WorkClaim::Run(_next) = ledger.claim("job-o", b"p").await.unwrap() else {
        panic!("free again")
    };
    assert!(!stale.release().await.unwrap());
    assert!(matches!(
        ledger.peek("job-o").await.unwrap(),
        Some(WorkState::InFlight { .. })
    ));
}

async fn the_lease_is_renewed_while_long_work_runs<B: Backend>(b: B) {
    let ledger = ledger(b, "renewal");
    let counter = Counter::default();
    let long = tokio::spawn({
        let (ledger, counter) = (ledger.clone(), counter.clone());
        async move {
            ledger
                .run("job-r", b"p", counted(&counter, LEASE * 4))
                .await
        }
    });
    // Three leases in, the first run still holds the id.
    tokio::time::sleep(LEASE * 3).await;
    let err = ledger
        .run("job-r", b"p", counted(&counter, Duration::ZERO))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), WorkErrorKind::InFlight);
    assert!(!long.await.unwrap().unwrap().is_replayed());
    assert_eq!(counter.get(), 1);
}

async fn cancelled_or_panicking_work_frees_its_id<B: Backend>(b: B) {
    let ledger = ledger(b, "cancel");
    let running = tokio::spawn({
        let ledger = ledger.clone();
        async move {
            ledger
                .run("job-c", b"p", || {
                    std::future::pending::<Result<(), Infallible>>()
                })
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(matches!(
        ledger.peek("job-c").await.unwrap(),
        Some(WorkState::InFlight { .. })
    ));
    running.abort();
    let _ = running.await;
    eventually_free(&ledger, "job-c").await;

    let panicked = tokio::spawn({
        let ledger = ledger.clone();
        async move {
            ledger
                .run("job-p", b"p", || async {
                    panic!("the analysis crashed");
                    #[allow(unreachable_code)]
                    Ok::<(), Infallible>(())
                })
                .await
        }
    });
    assert!(panicked.await.unwrap_err().is_panic());
    eventually_free(&ledger, "job-p").await;
}

/// Waits (well within one lease) for the background release of `id`.
async fn eventually_free<B: Backend>(ledger: &WorkLedger<B>, id: &str) {
    for _ in 0..50 {
        if ledger.peek(id).await.unwrap().is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("{id} was not released");
}

async fn an_outcome_is_kept_for_the_retention_then_forgotten<B: Backend>(b: B) {
    let ledger = WorkLedger::builder(b, "retention")
        .retention(Duration::from_millis(300))
        .build()
        .unwrap();
    let counter = Counter::default();
    ledger
        .run("job-t", b"p", counted(&counter, Duration::ZERO))
        .await
        .unwrap();
    assert!(ledger.peek("job-t").await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(ledger.peek("job-t").await.unwrap(), None);
    ledger
        .run("job-t", b"p", counted(&counter, Duration::ZERO))
        .await
        .unwrap();
    assert_eq!(counter.get(), 2);
}

async fn scopes_and_the_http_layer_never_share_an_id<B: Backend>(b: B) {
    let jobs = ledger(b.clone(), "jobs");
    let mail = ledger(b, "mail");
    let counter = Counter::default();
    jobs.run("42", b"p", counted(&counter, Duration::ZERO))
        .await
        .unwrap();
    let other = mail
        .run("42", b"p", counted(&counter, Duration::ZERO))
        .await
        .unwrap();
    assert!(!other.is_replayed());
    assert_eq!(counter.get(), 2);
}

/// An outcome type whose stored bytes can be unreadable.
#[derive(Debug, PartialEq)]
struct Verdict(u8);

impl JobOutcome for Verdict {
    type DecodeError = String;

    fn encode(&self) -> Bytes {
        Bytes::copy_from_slice(&[self.0])
    }

    fn decode(stored: Bytes) -> Result<Self, String> {
        match stored.as_ref() {
            [v] => Ok(Verdict(*v)),
            other => Err(format!("{} bytes", other.len())),
        }
    }
}

async fn an_unreadable_outcome_is_an_error_never_a_second_run<B: Backend>(b: B) {
    let ledger = ledger(b, "corrupt");
    let WorkClaim::Run(ticket) = ledger.claim("job-x", b"p").await.unwrap() else {
        panic!("free")
    };
    ticket.complete(&Bytes::from_static(b"??")).await.unwrap();
    let counter = Counter::default();
    let err = ledger
        .run("job-x", b"p", || async {
            counter.bump();
            Ok::<_, Infallible>(Verdict(1))
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), WorkErrorKind::Corrupt);
    assert_eq!(counter.get(), 0);
}

async fn hostile_ids_are_refused_or_kept_apart<B: Backend>(b: B) {
    let ledger = ledger(b, "ids");
    let err = ledger
        .run("", b"p", || async { Ok::<_, Infallible>(()) })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), WorkErrorKind::InvalidId);
    let long = "x".repeat(tower_vigil_idempotency::work::MAX_ID_LEN + 1);
    assert_eq!(
        ledger.claim(&long, b"p").await.unwrap_err().kind(),
        WorkErrorKind::InvalidId
    );
    // Braces, colons, NULs and non-ASCII are hashed into the key: no two ids meet.
    let counter = Counter::default();
    for id in ["{a}", "a}", ":a", "a\0", "é", "a:{b}"] {
        let done = ledger
            .run(id, b"p", counted(&counter, Duration::ZERO))
            .await
            .unwrap();
        assert!(!done.is_replayed(), "{id:?}");
    }
    assert_eq!(counter.get(), 6);
}

/// A broker message: its id and body.
struct Message {
    id: String,
    body: Bytes,
}

impl Job for Message {
    fn id(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.id)
    }

    fn payload(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.body)
    }
}

fn message(id: &str, body: &'static str) -> Message {
    Message {
        id: id.to_owned(),
        body: Bytes::from_static(body.as_bytes()),
    }
}

async fn the_layer_runs_each_message_once_across_workers<B: Backend>(b: B) {
    let counter = Counter::default();
    let handler = {
        let counter = counter.clone();
        tower::service_fn(move |m: Message| {
            let counter = counter.clone();
            async move {
                if m.body == "fail" {
                    // An owned error: a `&'static str` error type trips rustc's check of
                    // `Send` across the boxed future (rust-lang/rust#64552).
                    return Err(String::from("refused"));
                }
                counter.bump();
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok(format!("analysed {}", m.body.len()))
            }
        })
    };
    // Two workers, one ledger backend.
    let workers: Vec<_> = (0..2)
        .map(|_| ExactlyOnceLayer::new(ledger(b.clone(), "layer")).layer(handler.clone()))
        .collect();
    let mut deliveries = Vec::new();
    for round in 0..3 {
        for (i, w) in workers.iter().enumerate() {
            for id in 0..20 {
                let (w, m) = (w.clone(), message(&format!("m{id}"), "body"));
                let _ = (round, i);
                deliveries.push(tokio::spawn(async move { w.oneshot(m).await }));
            }
        }
    }
    let mut ran = 0;
    for d in deliveries {
        match d.await.unwrap() {
            Ok(done) => {
                assert_eq!(done.outcome(), "analysed 4");
                ran += usize::from(!done.is_replayed());
            }
            Err(e) => assert_eq!(e.kind(), WorkErrorKind::InFlight, "{e:?}"),
        }
    }
    assert_eq!((ran, counter.get()), (20, 20));
    let mut w = workers[0].clone();
    let err = w
        .ready()
        .await
        .unwrap()
        .call(message("bad", "fail"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), WorkErrorKind::Failed);
    assert_eq!(err.failure().map(String::as_str), Some("refused"));
    let mismatch = w
        .ready()
        .await
        .unwrap()
        .call(message("m1", "another body"))
        .await
        .unwrap_err();
    assert_eq!(mismatch.kind(), WorkErrorKind::Mismatch);
}

on_every_backend!(
    a_unit_runs_once_and_duplicates_get_its_outcome,
    of_200_concurrent_deliveries_exactly_one_runs,
    an_id_reused_with_another_payload_is_a_mismatch,
    failed_work_releases_its_id_and_runs_again,
    a_lapsed_lease_is_taken_over_and_the_stale_owner_cannot_write,
    a_stale_owner_cannot_release_the_next_holders_claim,
    the_lease_is_renewed_while_long_work_runs,
    cancelled_or_panicking_work_frees_its_id,
    an_outcome_is_kept_for_the_retention_then_forgotten,
    scopes_and_the_http_layer_never_share_an_id,
    an_unreadable_outcome_is_an_error_never_a_second_run,
    hostile_ids_are_refused_or_kept_apart,
    the_layer_runs_each_message_once_across_workers,
);
