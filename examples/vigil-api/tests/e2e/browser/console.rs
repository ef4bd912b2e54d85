//! A person at the console: signs in on two devices, sees both, ends the other one and watches
//! it fail there, creates an API key (shown once) and revokes it and watches the API refuse it,
//! changes a quota, reads the health page, signs out. The session cookie's attributes as the
//! browser stored them.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use super::driver::{Browser, Driver};
use crate::config::{ALICE, Config, SMALL_KEY};
use crate::http::{analyze, header_u64};
use crate::server::{Mode, Server, client};

/// The second device's user agent, as the sessions page must show it.
const PHONE: &str = "vigil-browser-test/phone";
const LAPTOP: &str = "vigil-browser-test/laptop";

/// The console's base: `localhost`, which browsers treat as a secure context (they keep its
/// `Secure` cookies over plain http and send it Fetch Metadata).
pub fn console_base(server: &Server) -> String {
    server.base.replace("127.0.0.1", "localhost")
}

/// A server in `mode` whose session cookie is the production one (`__Host-`, `Secure`), for a
/// browser at [`console_base`].
pub async fn start(mode: Mode) -> Server {
    Server::start(
        mode,
        Config {
            secure_cookies: true,
            ..Config::default()
        },
    )
    .await
}

/// Signs `browser` in as `user` through the form, landing on "My sessions".
pub async fn sign_in(browser: &Browser, base: &str, user: (&str, &str)) {
    browser.open(&format!("{base}/console")).await;
    browser.wait_for("/console/login", "Sign in").await;
    browser.fill("#username", user.0).await;
    browser.fill("#password", user.1).await;
    browser
        .click_to("#sign-in-button", "/console/sessions", "My sessions")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_manages_devices_keys_and_quotas_in_a_real_browser() {
    let server = start(Mode::Redis).await;
    let base = console_base(&server);
    let driver = Driver::start().await;
    let laptop = driver.browser(LAPTOP).await;
    let phone = driver.browser(PHONE).await;

    // Signing in: a wrong password is the form again, with a message.
    laptop.open(&format!("{base}/console")).await;
    laptop.wait_for("/console/login", "Sign in").await;
    laptop.screenshot("01-sign-in").await;
    laptop.fill("#username", ALICE.0).await;
    laptop.fill("#password", "not her password").await;
    laptop
        .click_to(
            "#sign-in-button",
            "/console/login",
            "Wrong username or password",
        )
        .await;
    sign_in(&laptop, &base, ALICE).await;

    // The session cookie as the browser keeps it.
    let cookies = laptop.client.get_all_cookies().await.expect("cookies");
    let cookie = cookies
        .iter()
        .find(|c| c.name() == "__Host-vigil_session")
        .unwrap_or_else(|| panic!("no __Host-vigil_session among {cookies:?}"));
    assert_eq!(cookie.http_only(), Some(true), "{cookie:?}");
    assert_eq!(cookie.secure(), Some(true), "{cookie:?}");
    assert_eq!(
        cookie.same_site().map(|s| s.to_string()).as_deref(),
        Some("Lax"),
        "{cookie:?}"
    );
    assert_eq!(cookie.path(), Some("/"), "{cookie:?}");
    assert!(
        !cookie.domain().unwrap_or_default().starts_with('.'),
        "host-only: {cookie:?}"
    );
    assert!(cookie.expires().is_some(), "persistent: {cookie:?}");
    assert_eq!(cookies.len(), 1, "no other cookie: {cookies:?}");

    // A second device; the first sees both, with their user agents.
    sign_in(&phone, &base, ALICE).await;
    laptop.open(&format!("{base}/console/sessions")).await;
    laptop.wait_for("/console/sessions", PHONE).await;
    let rows = laptop.all("#sessions tr.session").await;
    assert_eq!(rows.len(), 2);
    let current = laptop.find("#sessions tr.current .device").await;
    assert_eq!(current.text().await.unwrap(), LAPTOP);
    laptop.screenshot("02-sessions").await;

    // Ending the phone's session: it is signed out at its next request.
    laptop
        .click_to(
            "#sessions tr.session:not(.current) button.end-session",
            "/console/sessions",
            "Ended 1 session.",
        )
        .await;
    assert_eq!(laptop.all("#sessions tr.session").await.len(), 1);
    phone.open(&format!("{base}/console/sessions")).await;
    phone.wait_for("/console/login", "Sign in").await;

    // "End all others" ends every other device at once.
    sign_in(&phone, &base, ALICE).await;
    laptop.open(&format!("{base}/console/sessions")).await;
    laptop
        .click_to("#end-others", "/console/sessions", "Ended 1 session.")
        .await;
    phone.open(&format!("{base}/console/health")).await;
    phone.wait_for("/console/login", "Sign in").await;

    // A new key: shown once, works, then revoked and refused by the API.
    laptop.open(&format!("{base}/console/api-keys")).await;
    laptop.wait_for("/console/api-keys", "New key").await;
    laptop.fill("#key-id", "k-browser").await;
    laptop.fill("#key-quota", "50").await;
    laptop
        .click_to(
            "#create-key-button",
            "/console/api-keys",
            "shown only this once",
        )
        .await;
    let raw = laptop.find("#new-key").await.text().await.unwrap();
    assert!(raw.starts_with("vg_"), "{raw}");
    laptop.screenshot("03-api-key-created").await;
    let api = client();
    let body = json!({"text": "hello"});
    let res = analyze(&api, &server, Some(&raw), None, &body).await;
    assert_eq!(res.status(), StatusCode::OK, "the new key works");
    // The raw key is not on the list page.
    laptop.open(&format!("{base}/console/api-keys")).await;
    laptop.wait_for("/console/api-keys", "k-browser").await;
    assert!(!laptop.source().await.contains(&raw), "shown once only");
    let remaining = laptop
        .find(r#"tr[data-key="k-browser"] td.remaining"#)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(remaining, "49", "one request of 50 used");
    laptop
        .click_to(
            r#"tr[data-key="k-browser"] button.revoke"#,
            "/console/api-keys",
            "Revoked k-browser",
        )
        .await;
    let refused_within = refused_within(&server, &raw).await;
    assert!(
        refused_within < Duration::from_secs(1),
        "refused after {refused_within:?}"
    );

    // A quota change applies to the key's next request.
    laptop
        .fill(r#"tr[data-key="k-demo"] input[name="rate_limit"]"#, "7")
        .await;
    laptop
        .click_to(
            r#"tr[data-key="k-demo"] button.set-quota"#,
            "/console/api-keys",
            "Changed the quota of k-demo.",
        )
        .await;
    let value = laptop
        .find(r#"tr[data-key="k-demo"] input[name="rate_limit"]"#)
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(value.as_deref(), Some("7"));
    let started = Instant::now();
    loop {
        let res = analyze(&api, &server, Some(crate::config::DEMO_KEY), None, &body).await;
        if header_u64(res.headers(), "x-ratelimit-limit") == 7 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "the new quota is not applied: {:?}",
            res.headers()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Health: the probe, and the limiter's decisions, a limited one among them.
    for _ in 0..5 {
        analyze(&api, &server, Some(SMALL_KEY), None, &body).await;
    }
    laptop.open(&format!("{base}/console/health")).await;
    laptop
        .wait_for("/console/health", "Rate-limit decisions")
        .await;
    assert_eq!(
        laptop.find("#status").await.text().await.unwrap(),
        "healthy"
    );
    assert_eq!(laptop.find("#backend").await.text().await.unwrap(), "redis");
    let limited: u64 = laptop
        .find(r#"td.recent[data-outcome="limited"]"#)
        .await
        .text()
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        limited >= 2,
        "k-small's quota is 3 of 5 requests: {limited}"
    );
    assert_eq!(laptop.all("figure svg polyline").await.len(), 3);
    laptop.screenshot("04-health").await;

    // Signing out ends the session: the pages send the browser back to the form.
    laptop
        .click_to("#sign-out", "/console/login", "Sign in")
        .await;
    laptop.open(&format!("{base}/console/api-keys")).await;
    laptop.wait_for("/console/login", "Sign in").await;

    laptop.close().await;
    phone.close().await;
}

/// How long after the revocation the API went on accepting `raw`.
async fn refused_within(server: &Server, raw: &str) -> Duration {
    let api = client();
    let started = Instant::now();
    loop {
        let res = analyze(&api, server, Some(raw), None, &json!({"text": "x"})).await;
        if res.status() == StatusCode::UNAUTHORIZED {
            return started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(5), "still accepted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
