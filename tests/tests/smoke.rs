use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::{Backend, health};
use tower_vigil_tests::fixtures;

#[tokio::test]
async fn smoke_standalone_and_cluster() {
    for b in [fixtures::redis().await, fixtures::cluster().await] {
        b.set("a", Bytes::from_static(b"1"), Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(b.get("a").await.unwrap().as_deref(), Some(&b"1"[..]));
        assert_eq!(b.incr_by("n", 2, Duration::from_secs(5)).await.unwrap(), 2);
        let f = b
            .acquire_lease("lock:{x}", "lock:{x}:fence", b"me", Duration::from_secs(5))
            .await
            .unwrap();
        assert!(f.is_some());
        let r = health::check(&b).await;
        println!("{}", serde_json::to_string(&r).unwrap_or_default());
        assert!(r.connected, "{r:?}");
    }
}
