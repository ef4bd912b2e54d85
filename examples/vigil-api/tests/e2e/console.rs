//! The console over plain HTTP (the browser suite in `browser/` drives it in Chromium): who may
//! see which page, and what a form needs to be accepted — the session's current token, and a
//! request that says it came from this origin — on memory, Redis and the cluster.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::LOCATION;

use crate::config::{ALICE, BOB, Config, DEMO_KEY};
use crate::http::{analyze, expect_problem, expect_status};
use crate::server::{Mode, Server, client, per_mode};

per_mode!(
    pages_need_a_session_and_key_pages_an_admin,
    a_form_needs_this_origin_and_the_current_token,
);

/// A browser-like client that keeps cookies but shows redirects instead of following them.
fn person() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("reqwest client")
}

/// The token in the page's forms.
fn token_in(page: &str) -> String {
    let start = page
        .find(r#"name="csrf_token" value=""#)
        .unwrap_or_else(|| panic!("no token in the page: {page}"))
        + r#"name="csrf_token" value=""#.len();
    page[start..start + page[start..].find('"').expect("closing quote")].to_owned()
}

/// `GET path` as `who`: the status, the `Location` and the body.
async fn page(who: &reqwest::Client, server: &Server, path: &str) -> (StatusCode, String, String) {
    let res = who.get(server.url(path)).send().await.expect("GET");
    let status = res.status();
    let location = res
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, res.text().await.unwrap())
}

/// A form post as a same-origin browser would send it (`Sec-Fetch-Site: same-origin`).
async fn post_form(
    who: &reqwest::Client,
    server: &Server,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    who.post(server.url(path))
        .header("sec-fetch-site", "same-origin")
        .form(fields)
        .send()
        .await
        .expect("POST")
}

/// Signs `who` in as `user` through the form (which has no token: a visitor has no session).
async fn sign_in(who: &reqwest::Client, server: &Server, user: (&str, &str)) {
    let (status, location, form) = page(who, server, "/console/login").await;
    if status == StatusCode::OK {
        assert!(
            !form.contains("csrf_token"),
            "the sign-in form needs no token"
        );
    } else {
        // Signed in already: the form sends the browser home, and a new sign-in still works.
        assert_eq!(
            (status, location.as_str()),
            (StatusCode::SEE_OTHER, "/console/sessions")
        );
    }
    let res = post_form(
        who,
        server,
        "/console/login",
        &[("username", user.0), ("password", user.1)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[LOCATION], "/console/sessions");
}

async fn pages_need_a_session_and_key_pages_an_admin(mode: Mode) {
    let server = Server::start(mode, Config::default()).await;
    let anonymous = person();
    for path in [
        "/console",
        "/console/sessions",
        "/console/api-keys",
        "/console/health",
    ] {
        let (status, location, _) = page(&anonymous, &server, path).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
        assert!(location.starts_with("/console/"), "{path} → {location}");
    }
    let (status, _, _) = page(&anonymous, &server, "/console/login").await;
    assert_eq!(status, StatusCode::OK);

    // Bob is no admin: he sees his sessions and health, not the keys, and cannot act on them.
    let bob = person();
    sign_in(&bob, &server, BOB).await;
    let (_, _, sessions) = page(&bob, &server, "/console/sessions").await;
    assert!(sessions.contains("My sessions"));
    assert!(
        !sessions.contains("/console/api-keys\""),
        "no link to the keys"
    );
    let token = token_in(&sessions);
    let (status, _, _) = page(&bob, &server, "/console/health").await;
    assert_eq!(status, StatusCode::OK);
    let res = bob
        .get(server.url("/console/api-keys"))
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::FORBIDDEN).await;
    for (path, fields) in [
        (
            "/console/api-keys",
            vec![("user_id", "u-bob"), ("rate_limit", "10")],
        ),
        ("/console/api-keys/k-demo/revoke", vec![]),
        ("/console/api-keys/k-demo/quota", vec![("rate_limit", "1")]),
    ] {
        let mut fields = fields;
        fields.push(("csrf_token", &token));
        let res = post_form(&bob, &server, path, &fields).await;
        expect_problem(res, StatusCode::FORBIDDEN).await;
    }
    let res = analyze(
        &client(),
        &server,
        Some(DEMO_KEY),
        None,
        &serde_json::json!({"text": "x"}),
    )
    .await;
    let (headers, _) = expect_status(res, StatusCode::OK).await;
    assert_eq!(headers["x-ratelimit-limit"], "100", "k-demo untouched");

    // An admin's bad form values are 422 problems, an unknown key 404.
    let alice = person();
    sign_in(&alice, &server, ALICE).await;
    let (status, _, keys) = page(&alice, &server, "/console/api-keys").await;
    assert_eq!(status, StatusCode::OK);
    let token = token_in(&keys);
    for fields in [
        vec![("user_id", "u-nobody"), ("rate_limit", "10")],
        vec![("user_id", "u-bob"), ("rate_limit", "0")],
        vec![
            ("id", "has space"),
            ("user_id", "u-bob"),
            ("rate_limit", "10"),
        ],
        vec![("user_id", "u-bob"), ("rate_limit", "ten")],
    ] {
        let mut fields = fields;
        fields.push(("csrf_token", &token));
        let res = post_form(&alice, &server, "/console/api-keys", &fields).await;
        expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let res = post_form(
        &alice,
        &server,
        "/console/api-keys/k-nope/revoke",
        &[("csrf_token", &token)],
    )
    .await;
    expect_problem(res, StatusCode::NOT_FOUND).await;
    // An id already taken is a 409, and the existing key is untouched.
    let res = post_form(
        &alice,
        &server,
        "/console/api-keys",
        &[
            ("csrf_token", &token),
            ("id", "k-demo"),
            ("user_id", "u-bob"),
            ("rate_limit", "5"),
        ],
    )
    .await;
    expect_problem(res, StatusCode::CONFLICT).await;
}

async fn a_form_needs_this_origin_and_the_current_token(mode: Mode) {
    let server = Server::start(mode, Config::default()).await;
    // A visitor's page views store nothing: no cookie, so no session.
    let visitor = person();
    for _ in 0..3 {
        let res = visitor
            .get(server.url("/console/login"))
            .send()
            .await
            .unwrap();
        assert!(
            res.headers().get("set-cookie").is_none(),
            "{:?}",
            res.headers()
        );
    }
    // A sign-in from another site is refused on the browser's word (login CSRF).
    let res = visitor
        .post(server.url("/console/login"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("username", ALICE.0), ("password", ALICE.1)])
        .send()
        .await
        .unwrap();
    let (_, body) = expect_problem(res, StatusCode::FORBIDDEN).await;
    assert_eq!(body["reason"], "cross_site");

    let alice = person();
    sign_in(&alice, &server, ALICE).await;
    let (_, _, sessions) = page(&alice, &server, "/console/sessions").await;
    let first = token_in(&sessions);
    // Signing in again (on the same session) gives it a new token; the old one is refused.
    sign_in(&alice, &server, ALICE).await;
    let other = person();
    sign_in(&other, &server, ALICE).await;
    let (_, _, sessions) = page(&alice, &server, "/console/sessions").await;
    let token = token_in(&sessions);
    assert_ne!(token, first, "signing in gives the session a new token");

    let end_others = server.url("/console/sessions/end-others");
    let refused = |res: reqwest::Response, reason: &'static str| async move {
        let (_, body) = expect_problem(res, StatusCode::FORBIDDEN).await;
        assert_eq!(body["reason"], reason, "{body}");
    };
    // The token from before the last sign-in, the token in the query string, no token,
    // another site's request with the right token, an untrusted origin with it.
    let res = post_form(
        &alice,
        &server,
        "/console/sessions/end-others",
        &[("csrf_token", &first)],
    )
    .await;
    refused(res, "bad_csrf_token").await;
    let res = alice
        .post(format!("{end_others}?csrf_token={token}"))
        .header("sec-fetch-site", "same-origin")
        .form(&[("x", "1")])
        .send()
        .await
        .unwrap();
    refused(res, "missing_csrf_token").await;
    let res = post_form(&alice, &server, "/console/sessions/end-others", &[]).await;
    refused(res, "missing_csrf_token").await;
    let res = alice
        .post(&end_others)
        .header("sec-fetch-site", "cross-site")
        .form(&[("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    refused(res, "cross_site").await;
    let res = alice
        .post(&end_others)
        .header("origin", "https://evil.example")
        .form(&[("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    refused(res, "untrusted_origin").await;
    // The other device is still signed in.
    let (status, _, _) = page(&other, &server, "/console/sessions").await;
    assert_eq!(status, StatusCode::OK);

    // The current token: from this origin, or from a client that sends no browser header at
    // all (the token alone then vouches for it).
    let res = alice
        .post(&end_others)
        .form(&[("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[LOCATION], "/console/sessions?ended=1");
    let (status, location, _) = page(&other, &server, "/console/sessions").await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/console/login")
    );

    // Signing out ends the session; its token goes with it.
    let res = post_form(
        &alice,
        &server,
        "/console/logout",
        &[("csrf_token", &token)],
    )
    .await;
    assert_eq!(res.headers()[LOCATION], "/console/login");
    let (status, location, _) = page(&alice, &server, "/console/sessions").await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/console/login")
    );
}
