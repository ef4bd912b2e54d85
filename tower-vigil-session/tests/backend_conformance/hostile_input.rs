//! Bad tokens and what the store holds.

use std::time::Duration;

use tower_vigil_session::SessionManagerLayer;

use crate::common::{App, Counts, Fixture, exists};

pub(crate) async fn bad_cookies_give_no_session_and_no_backend_call<S: Fixture>(
    store: S,
    _unit: Duration,
) {
    let counts = Counts::default();
    let _guard = counts.install();
    let app = App::new(SessionManagerLayer::new(store.clone()));
    let good = app.new_session("a", "1").await;
    let loads = counts.get(tower_vigil_session::metrics::LOADS_TOTAL);
    let oversized = format!("__Host-vigil_session={good}; pad={}", "x".repeat(20_000));
    let huge_value = format!("__Host-vigil_session={good}{}", "A".repeat(5000));
    let bad: Vec<String> = vec![
        "__Host-vigil_session=garbage".into(),
        "__Host-vigil_session=".into(),
        "__Host-vigil_session".into(),
        format!("__Host-vigil_session={}", &good[..64]),
        format!("__Host-vigil_session={good}x"),
        format!(
            "__Host-vigil_session={}",
            good.replace(|c: char| c.is_ascii_alphanumeric(), "%")
        ),
        format!("__Host-vigil_session=\"{}!\"", &good[..64]),
        "__Host-vigil_session=a.b.c; ;;==; =".into(),
        oversized,
        huge_value,
    ];
    for cookie in &bad {
        let r = app.send_raw("/get/a", &[("cookie", cookie.as_str())]).await;
        assert_eq!(
            (r.status.as_u16(), r.body.as_str()),
            (200, "null"),
            "{cookie}"
        );
        assert!(r.set_cookie.is_empty(), "{cookie}");
    }
    assert_eq!(
        counts.get(tower_vigil_session::metrics::LOADS_TOTAL),
        loads,
        "a malformed token reached the backend"
    );
    // Non-UTF-8 bytes in the header.
    let r = {
        use http::HeaderValue;
        let v = HeaderValue::from_bytes(b"__Host-vigil_session=\xff\xfe").unwrap();
        app.send_raw(
            "/get/a",
            &[(
                "cookie",
                v.to_str().unwrap_or("__Host-vigil_session=\u{fffd}"),
            )],
        )
        .await
    };
    assert_eq!(r.status, 200);
    // Well-formed but tampered tokens (session id part, secret part): a load each, no
    // session, the cookie left alone (only a request that ends a session clears it), and the
    // real session untouched even by a logout.
    for at in [0, 64] {
        let mut tampered = good.clone().into_bytes();
        tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        let r = app.send("/get/a", Some(&tampered)).await;
        assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "null"));
        assert!(r.set_cookie.is_empty(), "{r:?}");
        let r = app.send("/logout", Some(&tampered)).await;
        assert_eq!(r.status, 200);
        assert!(r.set_cookie.is_empty(), "{r:?}");
    }
    assert!(exists(&store, &good).await);
    // A session is never created for a bad token; writing with one starts a fresh session.
    let r = app
        .send_raw("/set/z/1", &[("cookie", "__Host-vigil_session=garbage")])
        .await;
    assert_ne!(r.token().unwrap(), "garbage");
    // The good session is intact; with a duplicate bad cookie first, the good one is used.
    let both = format!("__Host-vigil_session=garbage; __Host-vigil_session={good}");
    assert_eq!(
        app.send_raw("/get/a", &[("cookie", both.as_str())])
            .await
            .body,
        "1"
    );
}

pub(crate) async fn no_raw_token_anywhere_in_the_store<S: Fixture>(store: S, _unit: Duration) {
    let app = App::new(SessionManagerLayer::new(store.clone()));
    let mut tokens = vec![app.new_session("a", "1").await, app.login("carol").await];
    let r = app.send("/cycle", Some(&tokens[0])).await;
    tokens.push(r.token().unwrap());
    app.send("/set/note/\"hello\"", Some(&tokens[1])).await;
    let Some(dump) = store.dump().await else {
        // The memory store cannot be enumerated from outside; it holds the same fields.
        return;
    };
    let keys: Vec<&String> = dump.iter().map(|d| &d.key).collect();
    assert_eq!(
        dump.len(),
        3,
        "two sessions (one cycled in place) and carol's index: {keys:?}"
    );
    // Neither a whole token nor its session-id or secret part appears anywhere, and every
    // key expires.
    let parts: Vec<&[u8]> = tokens
        .iter()
        .flat_map(|t| [t.as_bytes(), &t.as_bytes()[..22], &t.as_bytes()[22..]])
        .collect();
    tower_vigil_tests::inspect::assert_no_secret(&dump, &parts);
}
