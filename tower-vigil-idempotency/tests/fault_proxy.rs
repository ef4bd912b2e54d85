//! Idempotency on a Redis that stops answering without closing anything (a stall through the
//! fault proxy, a frozen cluster), then heals late, or has its connections cut:
//! - every answer keeps its deadline (503 by default, the handler not run),
//! - a late reply is never taken for another key's record (each replay is its own response),
//! - a claim that timed out but reached Redis late does not hold its key for a whole lease:
//!   the client's retry runs once the backend answers again,
//! - the layer works again within seconds, without a restart.

mod common;

use std::time::Duration;

use common::failing;
use common::{Counter, Svc, header, post, send, service};
use http::StatusCode;
use tower_vigil_core::{Backend, RedisBackend};
use tower_vigil_idempotency::IdempotencyLayer;
use tower_vigil_tests::faults::{self, Faulty};

/// Requests sent at once.
const KEYS: usize = 20;
/// Long enough that a key held by a lost claim would outlast the test.
const LEASE: Duration = Duration::from_secs(60);

/// `(key, body)` of request `i` of batch `tag`; bodies are leaked: request bodies are
/// `'static` in the shared helpers.
fn request(tag: &str, i: usize) -> (String, &'static str) {
    let body: &'static str = format!("body-{tag}-{i}").leak();
    (format!("{tag}-{i}"), body)
}

/// Sends request `i` of batch `tag` for every `i` at once, each answered within the deadline;
/// returns the statuses after checking that each 201 carries its own body.
async fn answers_are_their_own(svc: &Svc, tag: &'static str) -> Vec<StatusCode> {
    let calls: Vec<_> = (0..KEYS)
        .map(|i| {
            let (key, body) = request(tag, i);
            let res = send(svc, post("/ok", &key, body));
            tokio::spawn(async move { faults::within_deadline("an idempotent call", res).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for (i, call) in calls.into_iter().enumerate() {
        let res = call.await.unwrap();
        if res.status() == StatusCode::CREATED {
            assert_eq!(
                res.body(),
                request(tag, i).1,
                "{tag} {i} got another's response"
            );
        }
        statuses.push(res.status());
    }
    statuses
}

fn count(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

async fn stall_then_heal(mut redis: Faulty, backend: RedisBackend) {
    let runs = Counter::default();
    let layer = IdempotencyLayer::builder(backend)
        .lease(LEASE)
        .build()
        .unwrap();
    let svc = service(layer, runs.clone());
    // Completed: their replays are their own responses.
    let done = answers_are_their_own(&svc, "done").await;
    assert_eq!(count(&done, StatusCode::CREATED), KEYS);
    let replays = answers_are_their_own(&svc, "done").await;
    assert_eq!(count(&replays, StatusCode::CREATED), KEYS);
    assert_eq!(runs.get(), KEYS);

    redis.stall();
    // Fail closed within the deadline, the handler not run; the claims are held by the stall.
    let stalled = answers_are_their_own(&svc, "lost").await;
    assert_eq!(count(&stalled, StatusCode::SERVICE_UNAVAILABLE), KEYS);
    assert_eq!(runs.get(), KEYS);

    redis.heal();
    // The late claims land, and their late replies arrive while the replays are read.
    faults::recovery(
        &format!("{} idempotency after heal", redis.name()),
        async || {
            let replays = answers_are_their_own(&svc, "done").await;
            count(&replays, StatusCode::CREATED) == KEYS
        },
    )
    .await;
    assert_eq!(runs.get(), KEYS, "replays run nothing");
    // The clients retry the calls that got 503: each runs once, not 409 for a whole lease.
    faults::recovery(
        &format!("{} retries after lost claims", redis.name()),
        async || {
            let retried = answers_are_their_own(&svc, "lost").await;
            count(&retried, StatusCode::CREATED) == KEYS
        },
    )
    .await;
    assert_eq!(runs.get(), 2 * KEYS, "each retried call ran once");
    let res = send(&svc, post("/ok", "lost-0", "body-lost-0")).await;
    assert_eq!(header(&res, "idempotent-replayed"), Some("true"));

    redis.cut();
    faults::recovery(
        &format!("{} idempotency after a cut", redis.name()),
        async || {
            let replays = answers_are_their_own(&svc, "done").await;
            count(&replays, StatusCode::CREATED) == KEYS
        },
    )
    .await;
    if redis.black_hole() {
        faults::recovery(
            &format!("{} idempotency after a black hole", redis.name()),
            async || {
                let replays = answers_are_their_own(&svc, "done").await;
                count(&replays, StatusCode::CREATED) == KEYS
            },
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_stalled_healed_and_cut() {
    let (redis, backend) = Faulty::standalone().await;
    stall_then_heal(redis, backend).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_frozen_and_thawed() {
    let (redis, backend) = Faulty::cluster().await;
    stall_then_heal(redis, backend).await;
}

/// A claim that landed but whose reply was lost: the client's retry runs (once) as soon as the
/// store answers again, instead of getting 409 for a whole lease.
async fn a_lost_claim_reply_does_not_hold_the_key<B: Backend>(backend: B) {
    let backend = failing::losing_replies(backend, failing::CLAIM);
    let runs = Counter::default();
    let svc = service(
        IdempotencyLayer::builder(backend.clone())
            .lease(LEASE)
            .build()
            .unwrap(),
        runs.clone(),
    );
    let res = send(&svc, post("/ok", "k", "x")).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    backend.heal();
    let mut statuses = Vec::new();
    // Well within the lease, on the paused clock too.
    for _ in 0..20 {
        let res = send(&svc, post("/ok", "k", "x")).await;
        statuses.push(res.status());
        if res.status() == StatusCode::CREATED {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(statuses.last(), Some(&StatusCode::CREATED), "{statuses:?}");
    assert_eq!(runs.get(), 1);
}

on_every_backend!(a_lost_claim_reply_does_not_hold_the_key);
