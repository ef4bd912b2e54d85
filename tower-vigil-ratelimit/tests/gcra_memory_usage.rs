//! One GCRA key in real Redis costs at most 100 bytes (`MEMORY USAGE`): the theoretical
//! arrival time is stored as a plain integer, which Redis keeps int-encoded.

use tower_vigil_core::Backend;
use tower_vigil_core::redis::Script;
use tower_vigil_ratelimit::{Acquire, Policy, Quota, RateLimitStore};
use tower_vigil_tests::fixtures;

#[tokio::test]
async fn one_gcra_key_uses_at_most_100_bytes() {
    // The default prefix, as deployed (this test binary has the shared server to itself).
    let redis = tower_vigil_core::RedisBackend::builder(&fixtures::shared_server().url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let policies = [Policy::new("default", Quota::per_minute(100)).unwrap()];
    // Keys as PeerIp (IPv4) and PrincipalKey make them. The cost is about 50 bytes plus the
    // key's length rounded up to the allocator's size class: a key of up to 44 characters
    // fits in 100 bytes (a long IPv6 network key with the default prefix can reach 48 characters: 104 bytes).
    for id in ["ip:203.0.113.7", "p:apikey:k_live_42"] {
        let req = Acquire::new(id, &policies);
        assert!(redis.acquire(req).await.unwrap().allowed());
        let key = redis.prefix().apply(&req.keys()[0]);
        // Ask the server itself, through a script so the call goes through the backend's timeout.
        let probe = Script::new(
            "return {redis.call('MEMORY', 'USAGE', KEYS[1]), redis.call('OBJECT', 'ENCODING', KEYS[1]), redis.call('GET', KEYS[1])}",
        );
        let (usage, encoding, value): (i64, String, String) = redis
            .script(&probe)
            .key(&req.keys()[0])
            .invoke()
            .await
            .unwrap();
        assert!(usage <= 100, "MEMORY USAGE {key} = {usage}");
        assert_eq!(encoding, "int");
        assert!(value.bytes().all(|b| b.is_ascii_digit()), "{value}");
    }
}
