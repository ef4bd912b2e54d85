//! The sliding-window log's timestamps count against the memory backend's byte budget: a hot
//! log key holds thousands of them, and a budget that saw only a fixed-size box would let a
//! few such keys grow past it unseen.

use tower_vigil_core::MemoryBackend;
use tower_vigil_ratelimit::{Acquire, Algorithm, Policy, Quota, RateLimitStore};

#[tokio::test]
async fn a_sliding_log_key_is_measured_by_its_length() {
    let backend = MemoryBackend::new();
    let policies =
        [
            Policy::with_algorithm("log", Quota::per_minute(5_000), Algorithm::SlidingWindowLog)
                .unwrap(),
        ];
    let req = Acquire::new("ip:203.0.113.7", &policies);
    assert!(backend.acquire(req).await.unwrap().allowed());
    let one = backend.usage().bytes;
    for _ in 1..4_000 {
        assert!(backend.acquire(req).await.unwrap().allowed());
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
