//! Sessions on a Redis that stops answering without closing anything (a stall through the
//! fault proxy, a frozen cluster), then heals late, or has its connections cut:
//! - every answer keeps its deadline (503 for requests that use their session; others pass),
//! - a late reply is never taken for another session's state (each session reads its own),
//! - sessions are served again within seconds, without a restart.

mod common;

use std::sync::Arc;

use common::App;
use tower_vigil_core::RedisBackend;
use tower_vigil_session::SessionManagerLayer;
use tower_vigil_tests::faults::{self, Faulty};

/// Sessions read at once.
const SESSIONS: usize = 20;

/// One session per value `base + i`; returns their tokens.
async fn sessions(app: &App, base: usize) -> Vec<String> {
    let mut tokens = Vec::new();
    for i in 0..SESSIONS {
        tokens.push(app.new_session("v", &(base + i).to_string()).await);
    }
    tokens
}

/// `/get/v` with every token at once, each answered within the deadline: 200 with the
/// session's own value, or 503. Returns how many were 200.
async fn reads_are_their_own(app: &App, tokens: &Arc<Vec<String>>, base: usize) -> usize {
    let calls: Vec<_> = (0..tokens.len())
        .map(|i| {
            let (app, tokens) = (app.clone(), Arc::clone(tokens));
            tokio::spawn(async move {
                let read = app.send("/get/v", Some(&tokens[i]));
                faults::within_deadline("a session read", read).await
            })
        })
        .collect();
    let mut served = 0;
    for (i, call) in calls.into_iter().enumerate() {
        let r = call.await.unwrap();
        match r.status.as_u16() {
            200 => {
                assert_eq!(
                    r.body,
                    (base + i).to_string(),
                    "session {i} read another's state"
                );
                served += 1;
            }
            503 => assert!(r.set_cookie.is_empty(), "{r:?}"),
            _ => panic!("{r:?}"),
        }
    }
    served
}

async fn stall_then_heal(mut redis: Faulty, backend: RedisBackend) {
    let app = App::new(SessionManagerLayer::new(backend));
    let early = Arc::new(sessions(&app, 1000).await);
    let later = Arc::new(sessions(&app, 2000).await);

    redis.stall();
    // Every read is a 503 within the deadline; its request and reply are held by the stall.
    assert_eq!(reads_are_their_own(&app, &early, 1000).await, 0);
    let r = faults::within_deadline("a new session", app.send("/set/v/1", None)).await;
    assert_eq!(r.status, 503, "{r:?}");
    let r = faults::within_deadline("a request not using it", app.send("/noop", None)).await;
    assert_eq!(r.status, 200, "{r:?}");

    redis.heal();
    // The held replies for the early sessions arrive late while the later ones are read.
    faults::recovery(
        &format!("{} sessions after heal", redis.name()),
        async || reads_are_their_own(&app, &later, 2000).await == SESSIONS,
    )
    .await;
    assert_eq!(reads_are_their_own(&app, &early, 1000).await, SESSIONS);
    redis.cut();
    faults::recovery(
        &format!("{} sessions after a cut", redis.name()),
        async || reads_are_their_own(&app, &later, 2000).await == SESSIONS,
    )
    .await;
    if redis.black_hole() {
        faults::recovery(
            &format!("{} sessions after a black hole", redis.name()),
            async || reads_are_their_own(&app, &later, 2000).await == SESSIONS,
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
