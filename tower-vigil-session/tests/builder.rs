//! `SessionManagerLayer::builder`: every setter is infallible and only records its value;
//! `build()` checks each value and every rule between values, naming the setting, and derives
//! what depends on several settings, so the order of the setter calls never matters.

mod common;

use std::time::Duration;

use http::HeaderName;
use tower_vigil_core::backend::MAX_TTL;
use tower_vigil_core::{ConfigError, MemoryBackend};
use tower_vigil_session::{
    CookieConfig, CookiePrefix, SameSite, SessionManagerLayer, SessionManagerLayerBuilder,
};

use common::App;

const HOUR: Duration = Duration::from_secs(3600);

fn builder() -> SessionManagerLayerBuilder {
    SessionManagerLayer::builder(MemoryBackend::new())
}

/// The setting a refused configuration names.
fn refused(b: SessionManagerLayerBuilder) -> &'static str {
    b.build().expect_err("must be refused").field()
}

/// What a layer is configured with (its `Debug` shows every setting, never a secret).
fn settings(r: Result<SessionManagerLayer, ConfigError>) -> String {
    format!("{:?}", r.expect("valid"))
}

/// The `Set-Cookie` a new session gets from `layer`.
async fn set_cookie(layer: SessionManagerLayer) -> String {
    let r = App::new(layer).send("/set/a/1", None).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.set_cookie[0].clone()
}

#[test]
fn new_is_the_default_builder() {
    let store = MemoryBackend::new();
    assert_eq!(
        format!("{:?}", SessionManagerLayer::new(store.clone())),
        settings(SessionManagerLayer::builder(store).build())
    );
}

#[test]
fn timeouts_are_checked() {
    // At least a second, at most MAX_TTL, for both timeouts.
    for t in [
        Duration::ZERO,
        Duration::from_millis(10),
        Duration::from_millis(999),
    ] {
        assert_eq!(refused(builder().idle_timeout(t)), "idle_timeout", "{t:?}");
        assert_eq!(
            refused(builder().absolute_timeout(Some(t))),
            "absolute_timeout",
            "{t:?}"
        );
    }
    // Issue 12, item 17: `Duration::MAX` is a `ConfigError` naming the setting, never an
    // overflow per request.
    let over = MAX_TTL + Duration::from_secs(1);
    for t in [over, Duration::MAX] {
        assert_eq!(refused(builder().idle_timeout(t)), "idle_timeout");
        assert_eq!(
            refused(builder().absolute_timeout(Some(t))),
            "absolute_timeout"
        );
    }
    for t in [Duration::from_secs(1), MAX_TTL] {
        assert!(builder().idle_timeout(t).build().is_ok());
        assert!(builder().absolute_timeout(Some(t)).build().is_ok());
    }
    assert!(builder().absolute_timeout(None).build().is_ok());
}

#[test]
fn refresh_after_must_be_shorter_than_the_idle_timeout() {
    // Against the default idle timeout (24 h)...
    assert_eq!(refused(builder().refresh_after(24 * HOUR)), "refresh_after");
    assert!(
        builder()
            .refresh_after(Duration::from_secs(60))
            .build()
            .is_ok()
    );
    assert!(builder().refresh_after(Duration::ZERO).build().is_ok());
    // ...and against the one set, before or after it.
    assert_eq!(
        refused(builder().refresh_after(2 * HOUR).idle_timeout(HOUR)),
        "refresh_after"
    );
    assert_eq!(
        refused(builder().idle_timeout(HOUR).refresh_after(2 * HOUR)),
        "refresh_after"
    );
    assert_eq!(
        refused(builder().idle_timeout(HOUR).refresh_after(HOUR)),
        "refresh_after"
    );
    // A long refresh threshold set before a longer idle timeout is fine.
    assert!(
        builder()
            .refresh_after(25 * HOUR)
            .idle_timeout(48 * HOUR)
            .build()
            .is_ok()
    );
}

#[test]
fn cookie_settings_are_checked() {
    let cookie = |c: CookieConfig| refused(builder().cookie(c));
    assert_eq!(cookie(CookieConfig::new().name("a;b")), "cookie.name");
    assert_eq!(cookie(CookieConfig::new().name("a b")), "cookie.name");
    assert_eq!(cookie(CookieConfig::new().name("")), "cookie.name");
    assert_eq!(cookie(CookieConfig::new().domain("x;y")), "cookie");
    assert_eq!(cookie(CookieConfig::new().path("/a b")), "cookie");
    assert_eq!(
        cookie(CookieConfig::new().same_site(SameSite::None).secure(false)),
        "cookie.same_site"
    );
    assert_eq!(
        cookie(CookieConfig::new().max_age(Some(Duration::ZERO))),
        "cookie.max_age"
    );
    assert_eq!(
        cookie(CookieConfig::new().max_age(Some(Duration::MAX))),
        "cookie.max_age"
    );
    assert!(
        builder()
            .cookie(CookieConfig::new().max_age(Some(MAX_TTL)))
            .build()
            .is_ok()
    );
    assert!(
        builder()
            .cookie(CookieConfig::new().max_age(None))
            .build()
            .is_ok()
    );
}

/// An explicit prefix the attributes cannot carry is refused at build time.
#[test]
fn cookie_prefix_must_fit_the_attributes() {
    let with = |c: CookieConfig| builder().cookie(c).build();
    for bad in [
        CookieConfig::new()
            .prefix(CookiePrefix::Host)
            .domain("example.com"),
        CookieConfig::new().prefix(CookiePrefix::Host).path("/app"),
        CookieConfig::new().prefix(CookiePrefix::Host).secure(false),
        CookieConfig::new()
            .prefix(CookiePrefix::Secure)
            .secure(false),
        CookieConfig::new().name("__Host-sid"),
        CookieConfig::new().name("__secure-sid"),
    ] {
        let field = with(bad.clone()).expect_err("refused").field();
        assert!(
            field == "cookie.prefix" || field == "cookie.name",
            "{bad:?}: {field}"
        );
    }
    assert!(
        with(
            CookieConfig::new()
                .prefix(CookiePrefix::Secure)
                .domain("example.com")
        )
        .is_ok()
    );
    assert!(with(CookieConfig::new().prefix(CookiePrefix::None).secure(false)).is_ok());
}

#[test]
fn signing_keys_are_checked() {
    assert_eq!(
        refused(builder().signing_keys(Vec::<Vec<u8>>::new())),
        "signing_keys"
    );
    assert_eq!(
        refused(builder().signing_keys([vec![0u8; 31]])),
        "signing_keys"
    );
    assert_eq!(
        refused(builder().signing_keys([vec![1u8; 32], vec![0u8; 31]])),
        "signing_keys"
    );
    assert!(builder().signing_keys([[1u8; 32]]).build().is_ok());
    assert!(
        builder()
            .signing_keys([vec![2u8; 64], vec![1u8; 32]])
            .build()
            .is_ok()
    );
}

#[test]
fn header_only_and_a_cookie_cannot_both_be_set() {
    let name = HeaderName::from_static("x-session-token");
    let cookie = CookieConfig::new().name("sid");
    assert_eq!(
        refused(builder().header_only(name.clone()).cookie(cookie.clone())),
        "header_only"
    );
    assert_eq!(
        refused(builder().cookie(cookie.clone()).header_only(name.clone())),
        "header_only"
    );
    // A header beside the cookie is fine.
    assert!(
        builder()
            .header(name.clone())
            .cookie(cookie)
            .build()
            .is_ok()
    );
    assert!(builder().header_only(name).build().is_ok());
}

/// Issue 14: `idle_timeout` used to reset `refresh_after` to a quarter of it, so setting the
/// threshold first lost it.
#[test]
fn idle_timeout_and_refresh_after_in_any_order() {
    let after = Duration::from_secs(60);
    assert_eq!(
        settings(builder().refresh_after(after).idle_timeout(HOUR).build()),
        settings(builder().idle_timeout(HOUR).refresh_after(after).build())
    );
    // Without a threshold it is a quarter of the idle timeout, whichever that is.
    assert_eq!(
        settings(builder().idle_timeout(HOUR).build()),
        settings(builder().idle_timeout(HOUR).refresh_after(HOUR / 4).build())
    );
    assert_ne!(
        settings(builder().idle_timeout(HOUR).build()),
        settings(builder().idle_timeout(HOUR).refresh_after(after).build())
    );
}

/// Issue 14: `absolute_timeout` used to overwrite the cookie's `Max-Age`, so a cookie set
/// before it lost its own, and one set after it lost the timeout's.
#[tokio::test]
async fn absolute_timeout_and_cookie_in_any_order() {
    let cookie = CookieConfig::new().name("sid");
    let a = builder()
        .cookie(cookie.clone())
        .absolute_timeout(Some(HOUR))
        .build();
    let b = builder()
        .absolute_timeout(Some(HOUR))
        .cookie(cookie.clone())
        .build();
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    for layer in [a, b] {
        let c = set_cookie(layer).await;
        assert!(
            c.starts_with("__Host-sid=") && c.contains("; Max-Age=3600;"),
            "{c}"
        );
    }
    // A `Max-Age` the cookie chose wins over the absolute timeout, in either order.
    let chosen = cookie.max_age(Some(Duration::from_secs(600)));
    let a = builder()
        .cookie(chosen.clone())
        .absolute_timeout(Some(HOUR))
        .build();
    let b = builder()
        .absolute_timeout(Some(HOUR))
        .cookie(chosen)
        .build();
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    for layer in [a, b] {
        let c = set_cookie(layer).await;
        assert!(c.contains("; Max-Age=600;"), "{c}");
    }
    // No absolute timeout: a browser-session cookie, unless the cookie chose a `Max-Age`.
    let c = set_cookie(builder().absolute_timeout(None).build().unwrap()).await;
    assert!(!c.contains("Max-Age"), "{c}");
    // The default: the default absolute timeout (7 days).
    let c = set_cookie(SessionManagerLayer::new(MemoryBackend::new())).await;
    assert!(c.contains("; Max-Age=604800;"), "{c}");
}

#[test]
fn every_setter_in_any_order_gives_the_same_layer() {
    let store = MemoryBackend::new();
    let name = HeaderName::from_static("x-session-token");
    type Step = Box<dyn Fn(SessionManagerLayerBuilder) -> SessionManagerLayerBuilder>;
    let steps: Vec<Step> = vec![
        Box::new(|b| b.idle_timeout(2 * HOUR)),
        Box::new(|b| b.absolute_timeout(Some(10 * HOUR))),
        Box::new(|b| b.refresh_after(Duration::from_secs(90))),
        Box::new(|b| b.cookie(CookieConfig::new().name("sid").same_site(SameSite::Strict))),
        Box::new(move |b| b.header(name.clone())),
        Box::new(|b| b.signing_keys([[3u8; 32]])),
        Box::new(|b| b.principal(true)),
    ];
    let run = |order: &[usize]| {
        let b = order
            .iter()
            .fold(SessionManagerLayer::builder(store.clone()), |b, &i| {
                steps[i](b)
            });
        settings(b.build())
    };
    let forward: Vec<usize> = (0..steps.len()).collect();
    let backward: Vec<usize> = forward.iter().rev().copied().collect();
    let shuffled = [3, 0, 5, 1, 6, 2, 4];
    let want = run(&forward);
    assert_eq!(run(&backward), want);
    assert_eq!(run(&shuffled), want);
}
