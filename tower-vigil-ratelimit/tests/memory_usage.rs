//! What one key costs in memory:
//! - in Redis, one GCRA key at most 100 bytes (`MEMORY USAGE`): the theoretical arrival time is
//!   stored as a plain integer, which Redis keeps int-encoded;
//! - on `MemoryBackend`, the sliding-window log's timestamps count against the byte budget: a
//!   hot log key holds thousands of them, and a budget that saw only a fixed-size box would let
//!   a few such keys grow past it unseen.

use tower_vigil_core::script::{Reply, Script, TwinCall};
use tower_vigil_core::{Backend, BackendError, BackendResult, MemoryBackend};
use tower_vigil_ratelimit::{Acquire, Algorithm, Policy, Quota, acquire};
use tower_vigil_tests::fixtures;

/// What Redis itself says of `KEYS[1]`: `MEMORY USAGE`, `OBJECT ENCODING` and the value. Redis
/// only: the memory backend has no such thing to ask.
static PROBE: Script<(i64, String, String)> = Script::new(
    "ratelimit.test.memory_usage",
    "return {redis.call('MEMORY', 'USAGE', KEYS[1]), redis.call('OBJECT', 'ENCODING', KEYS[1]), redis.call('GET', KEYS[1])}",
    no_twin,
    decode_probe,
);

fn no_twin(_: &mut TwinCall<'_>) -> BackendResult<(i64, String, String)> {
    Err(BackendError::script("a Redis-only probe"))
}

fn decode_probe(reply: Reply) -> BackendResult<(i64, String, String)> {
    let [usage, encoding, value] = reply.into_tuple()?;
    let text = |r: Reply| -> BackendResult<String> {
        let bytes = r.into_data()?.unwrap_or_default();
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    Ok((usage.into_int()?, text(encoding)?, text(value)?))
}

#[tokio::test]
async fn one_gcra_key_uses_at_most_100_bytes() {
    // The default prefix, as deployed (this test binary has the shared server to itself).
    let redis = tower_vigil_core::RedisBackend::builder(&fixtures::shared_server().url())
        .connect()
        .await
        .unwrap();
    let policies = [Policy::new("default", Quota::per_minute(100)).unwrap()];
    // Keys as PeerIp (IPv4) and PrincipalKey make them. The cost is about 50 bytes plus the
    // key's length rounded up to the allocator's size class: a key of up to 44 characters
    // fits in 100 bytes (a long IPv6 network key with the default prefix can reach 48 characters: 104 bytes).
    for id in ["ip:203.0.113.7", "p:apikey:k_live_42"] {
        let req = Acquire::new(id, &policies);
        assert!(acquire(&redis, req).await.unwrap().allowed());
        let key = redis.prefix().apply(&req.keys()[0]);
        // Ask the server itself, through a script so the call goes through the backend's timeout.
        let (usage, encoding, value) = redis
            .run(&PROBE, &[req.keys()[0].as_str()], &[])
            .await
            .unwrap();
        assert!(usage <= 100, "MEMORY USAGE {key} = {usage}");
        assert_eq!(encoding, "int");
        assert!(value.bytes().all(|b| b.is_ascii_digit()), "{value}");
    }
}

#[tokio::test]
async fn a_sliding_log_key_is_measured_by_its_length() {
    let backend = MemoryBackend::new();
    let policies =
        [
            Policy::with_algorithm("log", Quota::per_minute(5_000), Algorithm::SlidingWindowLog)
                .unwrap(),
        ];
    let req = Acquire::new("ip:203.0.113.7", &policies);
    assert!(acquire(&backend, req).await.unwrap().allowed());
    let one = backend.usage().bytes;
    for _ in 1..4_000 {
        assert!(acquire(&backend, req).await.unwrap().allowed());
    }
    let many = backend.usage().bytes;
    // 3,999 more timestamps of 8 bytes each, at least.
    assert!(
        many >= one + 3_999 * 8,
        "a 4,000-entry log is counted as {many} bytes, a 1-entry one as {one}"
    );
    assert_eq!(backend.usage().entries, 1);
    assert_eq!(backend.usage().bytes, backend.recount_usage().bytes);
}
