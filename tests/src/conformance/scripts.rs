//! [`Backend::run`]: a script runs atomically, the Lua and the twin agree, and misuse is an
//! error on every backend.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tower_vigil_core::memory::Value;
use tower_vigil_core::script::{Arg, Reply, Script, TwinCall};
use tower_vigil_core::{Backend, BackendErrorKind, BackendResult};

/// Takes one unit from a counter that starts at `ARGV[1]`; false when none is left.
static TAKE: Script<bool> = Script::new(
    "conformance.take",
    r"
local left = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
if left <= 0 then return 0 end
redis.call('SET', KEYS[1], left - 1, 'PX', 60000)
return 1
",
    take,
    |reply| Ok(reply.into_int()? == 1),
);

/// A counter as Lua's `tonumber(GET)` reads it: an integer, or decimal text.
fn number(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Int(n) => Some(*n),
        Value::Bytes(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        _ => None,
    }
}

fn take(call: &mut TwinCall<'_>) -> BackendResult<bool> {
    let start = call.args().int(0)?;
    let slot = call.slot(0)?;
    let left = number(slot.value()).unwrap_or(start);
    if left <= 0 {
        return Ok(false);
    }
    slot.set(Value::Int(left - 1), Duration::from_secs(60));
    Ok(true)
}

/// Moves one unit from `KEYS[1]` to `KEYS[2]` and returns both counts: two keys, one step.
static MOVE: Script<(i64, i64)> = Script::new(
    "conformance.move",
    r"
local a = tonumber(redis.call('GET', KEYS[1]) or '0')
local b = tonumber(redis.call('GET', KEYS[2]) or '0')
if a <= 0 then return {a, b} end
redis.call('SET', KEYS[1], a - 1, 'PX', 60000)
redis.call('SET', KEYS[2], b + 1, 'PX', 60000)
return {a - 1, b + 1}
",
    |call| {
        let counts: Vec<i64> = call
            .slots()
            .iter()
            .map(|s| number(s.value()).unwrap_or(0))
            .collect();
        let (a, b) = (counts[0], counts[1]);
        if a <= 0 {
            return Ok((a, b));
        }
        let ttl = Duration::from_secs(60);
        call.slot(0)?.set(Value::Int(a - 1), ttl);
        call.slot(1)?.set(Value::Int(b + 1), ttl);
        Ok((a - 1, b + 1))
    },
    |reply| {
        let [a, b] = reply.into_tuple()?;
        Ok((a.into_int()?, b.into_int()?))
    },
);

/// Fails on a non-numeric argument: Lua's arithmetic on `nil` and the twin's typed read.
static STRICT: Script<i64> = Script::new(
    "conformance.strict",
    "return tonumber(ARGV[1]) + 1",
    |call| Ok(call.args().int(0)? + 1),
    Reply::into_int,
);

/// The backend's clock in µs (Redis `TIME`).
static NOW: Script<i64> = Script::new(
    "conformance.now",
    "local t = redis.call('TIME') return tonumber(t[1]) * 1000000 + tonumber(t[2])",
    |call| Ok(i64::try_from(call.now_micros()).unwrap_or(i64::MAX)),
    Reply::into_int,
);

/// 40 concurrent takes from a counter of 10: exactly 10 succeed, however they interleave.
pub async fn scripts_run_atomically<B: Backend>(backend: B) {
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let backend = backend.clone();
            tokio::spawn(async move { backend.run(&TAKE, &["tickets"], &[Arg::Int(10)]).await })
        })
        .collect();
    let mut taken = 0;
    for t in tasks {
        taken += usize::from(t.await.unwrap().unwrap());
    }
    assert_eq!(taken, 10);
    assert!(
        !backend
            .run(&TAKE, &["tickets"], &[Arg::Int(10)])
            .await
            .unwrap()
    );
}

/// [`Backend::run_now`] answers as [`Backend::run`] does, on the same state, or never (a
/// backend that answers `None` once answers it always: callers stop asking).
pub async fn run_now_answers_as_run_or_never<B: Backend>(backend: B) {
    let Some(first) = backend.run_now(&TAKE, &["now-tickets"], &[Arg::Int(2)]) else {
        for _ in 0..3 {
            assert!(
                backend
                    .run_now(&TAKE, &["now-tickets"], &[Arg::Int(2)])
                    .is_none()
            );
        }
        // Nothing ran: the counter is untouched.
        assert!(backend.get("now-tickets").await.unwrap().is_none());
        return;
    };
    assert!(first.unwrap());
    // The state `run_now` left is the state `run` sees, and the other way round.
    assert!(
        backend
            .run(&TAKE, &["now-tickets"], &[Arg::Int(2)])
            .await
            .unwrap()
    );
    let spent = backend.run_now(&TAKE, &["now-tickets"], &[Arg::Int(2)]);
    assert!(!spent.expect("answered once, answers always").unwrap());
    // Misuse is the same error as through `run`.
    let twice = backend
        .run_now(&MOVE, &["{y}:a", "{y}:a"], &[])
        .expect("answered once, answers always")
        .unwrap_err();
    assert_eq!(twice.kind(), BackendErrorKind::Protocol, "{twice}");
}

/// A script over two keys of one hash tag changes both in one step.
pub async fn scripts_span_keys_of_one_tag<B: Backend>(backend: B) {
    backend
        .set("{acct}:a", "2".into(), Duration::from_secs(60))
        .await
        .unwrap();
    let keys = ["{acct}:a", "{acct}:b"];
    assert_eq!(backend.run(&MOVE, &keys, &[]).await.unwrap(), (1, 1));
    assert_eq!(backend.run(&MOVE, &keys, &[]).await.unwrap(), (0, 2));
    assert_eq!(backend.run(&MOVE, &keys, &[]).await.unwrap(), (0, 2));
    assert_eq!(
        backend.get("{acct}:b").await.unwrap().as_deref(),
        Some(&b"2"[..])
    );
}

/// Misuse is an error, never a panic: a key named twice, an argument of the wrong type.
pub async fn script_misuse_is_an_error<B: Backend>(backend: B) {
    let twice = backend
        .run(&MOVE, &["{x}:a", "{x}:a"], &[])
        .await
        .unwrap_err();
    assert_eq!(twice.kind(), BackendErrorKind::Protocol, "{twice}");
    assert_eq!(
        backend.run(&STRICT, &[], &[Arg::Int(41)]).await.unwrap(),
        42
    );
    assert_eq!(
        backend.run(&STRICT, &[], &[Arg::from("41")]).await.unwrap(),
        42
    );
    // A script that fails half-way is a script error, on Redis as in its twin.
    let bad = backend
        .run(&STRICT, &[], &[Arg::from("forty")])
        .await
        .unwrap_err();
    assert_eq!(bad.kind(), BackendErrorKind::Script, "{bad}");
}

/// Scripts see the backend's clock, in µs since the Unix epoch.
pub async fn scripts_see_the_backend_clock<B: Backend>(backend: B) {
    let now = backend.run(&NOW, &[], &[]).await.unwrap();
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64;
    assert!(
        (now - wall).abs() < 5_000_000,
        "backend {now} µs, wall {wall} µs"
    );
}
