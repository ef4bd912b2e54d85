//! Key-value primitives: get/set/delete, TTLs and expiry, `set_nx`, owner-checked delete and
//! extend, counters, sets, hashes and `hash_read`, wrong types, and absurd TTLs.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::time::sleep;
use tower_vigil_core::backend::MAX_TTL;
use tower_vigil_core::{Backend, Lock};

use super::{LONG, PAST_SHORT, SHORT, ScriptsOnly, b};

/// get, set, overwrite and delete.
pub async fn get_set_delete<B: Backend>(backend: B) {
    assert_eq!(backend.get("k").await.unwrap(), None);
    backend.set("k", b("v1"), LONG).await.unwrap();
    assert_eq!(backend.get("k").await.unwrap(), Some(b("v1")));
    backend.set("k", b("v2"), LONG).await.unwrap();
    assert_eq!(backend.get("k").await.unwrap(), Some(b("v2")));
    assert!(backend.delete("k").await.unwrap());
    assert!(!backend.delete("k").await.unwrap());
    assert_eq!(backend.get("k").await.unwrap(), None);
    // Binary values survive untouched.
    let raw = Bytes::from(vec![0u8, 255, 10, 13, 0]);
    backend.set("bin", raw.clone(), LONG).await.unwrap();
    assert_eq!(backend.get("bin").await.unwrap(), Some(raw));
}

/// Keys expire after their TTL; `ttl`, `expire` and `get_refresh` see and move the expiry.
pub async fn ttl_expiry<B: Backend>(backend: B) {
    backend.set("short", b("x"), SHORT).await.unwrap();
    let ttl = backend.ttl("short").await.unwrap().expect("exists");
    assert!(ttl <= SHORT && ttl > Duration::ZERO, "{ttl:?}");
    sleep(PAST_SHORT).await;
    assert_eq!(backend.get("short").await.unwrap(), None);
    assert_eq!(backend.ttl("short").await.unwrap(), None);

    assert!(!backend.expire("missing", LONG).await.unwrap());
    backend.set("moved", b("x"), SHORT).await.unwrap();
    assert!(backend.expire("moved", LONG).await.unwrap());
    sleep(PAST_SHORT).await;
    assert_eq!(backend.get("moved").await.unwrap(), Some(b("x")));

    backend.set("refreshed", b("y"), SHORT).await.unwrap();
    assert_eq!(
        backend.get_refresh("refreshed", LONG).await.unwrap(),
        Some(b("y"))
    );
    sleep(PAST_SHORT).await;
    assert_eq!(backend.get("refreshed").await.unwrap(), Some(b("y")));
    assert!(backend.ttl("refreshed").await.unwrap().unwrap() > SHORT);
    assert_eq!(backend.get_refresh("nothing", LONG).await.unwrap(), None);
}

/// Many tasks race `set_nx` on one key: exactly one wins, and the value is the winner's.
pub async fn set_nx_exactly_one_wins<B: Backend>(backend: B) {
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let backend = backend.clone();
            tokio::spawn(async move {
                let won = backend
                    .set_nx("claim", Bytes::from(format!("owner-{i}")), LONG)
                    .await
                    .unwrap();
                (i, won)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for t in tasks {
        let (i, won) = t.await.unwrap();
        if won {
            winners.push(i);
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    assert_eq!(
        backend.get("claim").await.unwrap(),
        Some(Bytes::from(format!("owner-{}", winners[0])))
    );
    // Once it expires, it can be claimed again.
    backend.set_nx("brief", b("a"), SHORT).await.unwrap();
    assert!(!backend.set_nx("brief", b("b"), SHORT).await.unwrap());
    sleep(PAST_SHORT).await;
    assert!(backend.set_nx("brief", b("c"), SHORT).await.unwrap());
}

/// Compare-and-delete and compare-and-extend act only for the owner.
pub async fn compare_and_delete_checks_the_owner<B: Backend>(backend: B) {
    backend.set("lease", b("owner-a"), SHORT).await.unwrap();
    assert!(
        !backend
            .compare_and_delete("lease", b"owner-b")
            .await
            .unwrap()
    );
    assert!(
        !backend
            .compare_and_delete("lease", b"owner-")
            .await
            .unwrap()
    );
    assert_eq!(backend.get("lease").await.unwrap(), Some(b("owner-a")));

    assert!(
        !backend
            .compare_and_extend("lease", b"owner-b", LONG)
            .await
            .unwrap()
    );
    assert!(
        backend
            .compare_and_extend("lease", b"owner-a", LONG)
            .await
            .unwrap()
    );
    sleep(PAST_SHORT).await;
    assert_eq!(
        backend.get("lease").await.unwrap(),
        Some(b("owner-a")),
        "extended"
    );

    assert!(
        backend
            .compare_and_delete("lease", b"owner-a")
            .await
            .unwrap()
    );
    assert_eq!(backend.get("lease").await.unwrap(), None);
    assert!(
        !backend
            .compare_and_delete("lease", b"owner-a")
            .await
            .unwrap()
    );
    assert!(
        !backend
            .compare_and_extend("lease", b"owner-a", LONG)
            .await
            .unwrap()
    );
}

/// Counters: increments add up, a new counter gets the TTL, an existing one keeps its expiry.
pub async fn counters_keep_their_window<B: Backend>(backend: B) {
    assert_eq!(backend.incr_by("hits", 1, SHORT).await.unwrap(), 1);
    assert_eq!(backend.incr_by("hits", 5, LONG).await.unwrap(), 6);
    assert_eq!(backend.incr_by("hits", -2, LONG).await.unwrap(), 4);
    // The second call's longer TTL did not extend the window.
    assert!(backend.ttl("hits").await.unwrap().unwrap() <= SHORT);
    sleep(PAST_SHORT).await;
    assert_eq!(
        backend.incr_by("hits", 1, LONG).await.unwrap(),
        1,
        "a new window"
    );

    // Concurrent increments are not lost.
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let backend = backend.clone();
            tokio::spawn(async move {
                for _ in 0..10 {
                    backend.incr_by("many", 1, LONG).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(backend.incr_by("many", 0, LONG).await.unwrap(), 200);
}

/// Sets: add, members, remove; an emptied set disappears; adding refreshes the TTL.
pub async fn sets_with_ttl<B: Backend>(backend: B) {
    assert!(backend.set_members("idx").await.unwrap().is_empty());
    assert_eq!(
        backend
            .set_add("idx", &[b("a"), b("b")], SHORT)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        backend
            .set_add("idx", &[b("b"), b("c")], LONG)
            .await
            .unwrap(),
        1
    );
    let members: BTreeSet<Bytes> = backend
        .set_members("idx")
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(members, [b("a"), b("b"), b("c")].into_iter().collect());
    assert!(
        backend.ttl("idx").await.unwrap().unwrap() > SHORT,
        "refreshed"
    );
    assert_eq!(
        backend.set_remove("idx", &[b("a"), b("zz")]).await.unwrap(),
        1
    );
    assert_eq!(
        backend.set_remove("idx", &[b("b"), b("c")]).await.unwrap(),
        2
    );
    assert!(backend.set_members("idx").await.unwrap().is_empty());
    assert_eq!(
        backend.ttl("idx").await.unwrap(),
        None,
        "an empty set is gone"
    );
    assert_eq!(backend.set_add("idx", &[], LONG).await.unwrap(), 0);
}

/// Hashes: field-level writes keep other fields; get, get_all (sorted), delete, TTL.
pub async fn hashes_are_field_level<B: Backend>(backend: B) {
    backend
        .hash_set("h", &[("b", b("2")), ("a", b("1"))], LONG)
        .await
        .unwrap();
    backend.hash_set("h", &[("c", b("3"))], LONG).await.unwrap();
    backend
        .hash_set("h", &[("a", b("one"))], LONG)
        .await
        .unwrap();
    assert_eq!(backend.hash_get("h", "a").await.unwrap(), Some(b("one")));
    assert_eq!(backend.hash_get("h", "zz").await.unwrap(), None);
    assert_eq!(
        backend.hash_get_all("h").await.unwrap(),
        vec![
            ("a".to_owned(), b("one")),
            ("b".to_owned(), b("2")),
            ("c".to_owned(), b("3"))
        ]
    );
    assert_eq!(backend.hash_delete("h", &["a", "zz"]).await.unwrap(), 1);
    assert!(backend.ttl("h").await.unwrap().is_some());
    assert_eq!(backend.hash_delete("h", &["b", "c"]).await.unwrap(), 2);
    assert!(backend.hash_get_all("h").await.unwrap().is_empty());
    assert_eq!(
        backend.ttl("h").await.unwrap(),
        None,
        "an empty hash is gone"
    );

    // Concurrent writers of different fields both survive.
    let (x, y) = (backend.clone(), backend.clone());
    let (r1, r2) = tokio::join!(
        async move { x.hash_set("shared", &[("x", b("1"))], LONG).await },
        async move { y.hash_set("shared", &[("y", b("2"))], LONG).await },
    );
    r1.unwrap();
    r2.unwrap();
    assert_eq!(backend.hash_get_all("shared").await.unwrap().len(), 2);
}

/// `hash_read`: `None` for a missing or expired key, else every field sorted by name with the
/// key's TTL and the time of the read; a value of another type is an error. The same through
/// the backend's own implementation and through the provided script (what a third-party
/// backend runs; on Redis, the Lua the override replaces).
pub async fn hash_read_gives_fields_and_ttl<B: Backend>(backend: B) {
    hash_read_case(&backend, "own").await;
    hash_read_case(&ScriptsOnly::new(backend), "script").await;
}

async fn hash_read_case<B: Backend>(backend: &B, path: &str) {
    let key = |name: &str| format!("{path}:{name}");
    assert_eq!(backend.hash_read(&key("missing")).await.unwrap(), None);

    let h = key("h");
    backend
        .hash_set(&h, &[("b", b("2")), ("a", b("1")), ("_c", b("3"))], LONG)
        .await
        .unwrap();
    backend.hash_set(&h, &[("aa", b(""))], LONG).await.unwrap();
    let read = backend.hash_read(&h).await.unwrap().expect(path);
    let fields: Vec<(String, Bytes)> = read.fields.into_iter().collect();
    assert_eq!(
        fields,
        vec![
            ("_c".to_owned(), b("3")),
            ("a".to_owned(), b("1")),
            ("aa".to_owned(), b("")),
            ("b".to_owned(), b("2")),
        ],
        "{path}"
    );
    assert_eq!(fields, backend.hash_get_all(&h).await.unwrap(), "{path}");
    assert!(
        read.ttl <= LONG && read.ttl > LONG - Duration::from_secs(5),
        "{path}: {:?}",
        read.ttl
    );
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros();
    assert!(
        u128::from(read.read_at_micros).abs_diff(wall) < 5_000_000,
        "{path}: read at {} µs, wall {wall} µs",
        read.read_at_micros
    );

    // Gone once it expires.
    let brief = key("brief");
    backend
        .hash_set(&brief, &[("f", b("v"))], SHORT)
        .await
        .unwrap();
    let ttl = backend.hash_read(&brief).await.unwrap().expect(path).ttl;
    assert!(ttl <= SHORT && ttl > Duration::ZERO, "{path}: {ttl:?}");
    sleep(PAST_SHORT).await;
    assert_eq!(backend.hash_read(&brief).await.unwrap(), None, "{path}");

    // Another type is an error, and left intact.
    let s = key("string");
    backend.set(&s, b("v"), LONG).await.unwrap();
    assert!(backend.hash_read(&s).await.is_err(), "{path}");
    let set = key("set");
    backend.set_add(&set, &[b("m")], LONG).await.unwrap();
    assert!(backend.hash_read(&set).await.is_err(), "{path}");
    assert_eq!(backend.get(&s).await.unwrap(), Some(b("v")), "{path}");
}

/// A value of the wrong type is an error, not a panic or a silent answer.
pub async fn wrong_type_is_an_error<B: Backend>(backend: B) {
    backend
        .hash_set("typed", &[("f", b("v"))], LONG)
        .await
        .unwrap();
    assert!(backend.get("typed").await.is_err());
    assert!(backend.incr_by("typed", 1, LONG).await.is_err());
    assert!(backend.set_add("typed", &[b("m")], LONG).await.is_err());
    // The hash is intact.
    assert_eq!(backend.hash_get("typed", "f").await.unwrap(), Some(b("v")));
}

/// No TTL, however absurd, panics or overflows: each is capped at `MAX_TTL` (issue 12, item 17).
pub async fn absurd_ttls_are_capped<B: Backend>(backend: B) {
    let max = Duration::MAX;
    backend.set("s", b("v"), max).await.unwrap();
    assert!(backend.set_nx("nx", b("v"), max).await.unwrap());
    assert_eq!(backend.get_refresh("s", max).await.unwrap(), Some(b("v")));
    assert!(backend.expire("s", max).await.unwrap());
    assert_eq!(backend.incr_by("n", 1, max).await.unwrap(), 1);
    backend.set_add("set", &[b("m")], max).await.unwrap();
    backend.hash_set("h", &[("f", b("v"))], max).await.unwrap();
    backend.set("lease", b("me"), SHORT).await.unwrap();
    assert!(
        backend
            .compare_and_extend("lease", b"me", max)
            .await
            .unwrap()
    );
    assert!(
        backend
            .acquire_lease("lock:{x}", "lock:{x}:fence", b"o", max)
            .await
            .unwrap()
            .is_some()
    );
    for key in ["s", "nx", "n", "set", "h", "lease", "lock:{x}"] {
        let ttl = backend.ttl(key).await.unwrap().expect(key);
        assert!(
            ttl <= MAX_TTL && ttl > MAX_TTL - Duration::from_secs(60),
            "{key}: {ttl:?}"
        );
    }
    // A lock refuses such a lease at build time, and waits "forever" without overflowing.
    let err = Lock::new(backend.clone(), "r", max).unwrap_err();
    assert_eq!(err.field(), "lease");
    let lock = Lock::new(backend, "r", LONG).unwrap();
    let guard = lock.acquire(max).await.unwrap().expect("free");
    guard.release().await.unwrap();
}
