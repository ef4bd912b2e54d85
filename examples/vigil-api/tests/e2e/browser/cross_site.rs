//! Pages on other origins post forms to the console with the signed-in user's browser: from
//! another site (`127.0.0.1` against the console's `localhost`), whose request carries no
//! cookie (`SameSite=Lax`) and says `Sec-Fetch-Site: cross-site`; and from another origin of
//! the same site (`localhost` on another port), whose request does carry the cookie, so only
//! the cross-site layer stands in the way. Both are refused with a 403 problem, and nothing
//! changes: the other device stays signed in, the key keeps its quota.

use super::attacker::Attacker;
use super::console::{console_base, sign_in, start};
use super::driver::Driver;
use crate::config::ALICE;
use crate::server::Mode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_posted_from_other_origins_are_refused() {
    let server = start(Mode::Memory).await;
    let base = console_base(&server);
    let driver = Driver::start().await;
    let victim = driver.browser("vigil-browser-test/victim").await;
    let other = driver.browser("vigil-browser-test/other-device").await;
    sign_in(&victim, &base, ALICE).await;
    sign_in(&other, &base, ALICE).await;
    let attacker = Attacker::start().await;

    let end_others = format!("{base}/console/sessions/end-others");
    let set_quota = format!("{base}/console/api-keys/k-demo/quota");
    // Login CSRF: signing the victim in as someone else.
    let sign_in_as = format!("{base}/console/login");
    for (host, reason) in [
        ("127.0.0.1", "cross_site"),
        ("localhost", "same_site_not_allowed"),
    ] {
        for action in [&end_others, &set_quota, &sign_in_as] {
            victim.open(&attacker.page(host, action)).await;
            let path = reqwest::Url::parse(action).unwrap().path().to_owned();
            victim.wait_for(&path, reason).await;
            let text = victim.text().await;
            assert!(text.contains(r#""status":403"#), "{text}");
            victim
                .screenshot(&format!("05-forged-from-{host}-refused"))
                .await;
        }
    }

    // Nothing happened: the other device is still signed in, k-demo keeps its quota.
    other.open(&format!("{base}/console/sessions")).await;
    other.wait_for("/console/sessions", "My sessions").await;
    victim.open(&format!("{base}/console/api-keys")).await;
    victim.wait_for("/console/api-keys", "k-demo").await;
    let quota = victim
        .find(r#"tr[data-key="k-demo"] input[name="rate_limit"]"#)
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(quota.as_deref(), Some("100"));
    // And the victim's own forms still work.
    victim.open(&format!("{base}/console/sessions")).await;
    victim
        .click_to("#end-others", "/console/sessions", "Ended 1 session.")
        .await;

    victim.close().await;
    other.close().await;
}
