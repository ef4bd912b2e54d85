//! The session routes: login and its cookie, `/me`, logout, revoking a user's sessions,
//! deleting API keys, and the failed-login limit per client IP.

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER, SET_COOKIE};
use serde_json::json;

use crate::config::{ALICE, BOB, Config, DEMO_KEY};
use crate::http::{
    analyze, delete, expect_json, expect_problem, expect_status, get, header_u64, login,
};
use crate::server::{Mode, Server, browser, client, per_mode};

per_mode!(
    login_sets_a_fresh_session_cookie_and_me_answers,
    logout_destroys_the_session_and_clears_the_cookie,
    user_sessions_are_revoked_by_their_user_or_an_admin,
    api_keys_are_deleted_by_admins_only,
    failed_logins_are_limited_per_client_ip,
);

/// The `vigil_session` cookie set by a response: its value and its attributes.
fn session_cookie(headers: &HeaderMap) -> (String, Vec<String>) {
    let cookie = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("vigil_session="))
        .unwrap_or_else(|| panic!("no vigil_session cookie set in {headers:?}"));
    let mut parts = cookie.split(';').map(str::trim);
    let value = parts
        .next()
        .and_then(|p| p.strip_prefix("vigil_session="))
        .unwrap_or_default()
        .to_owned();
    (value, parts.map(str::to_owned).collect())
}

/// `GET /me` with the session token set by hand (a browser replaying an old cookie).
async fn me_with_token(server: &Server, token: &str) -> reqwest::Response {
    client()
        .get(server.url("/me"))
        .header("cookie", format!("vigil_session={token}"))
        .send()
        .await
        .expect("GET /me")
}

async fn login_ok(browser: &reqwest::Client, server: &Server, user: (&str, &str)) -> String {
    let res = login(browser, server, user).await;
    let (headers, body) = expect_json(res, StatusCode::OK).await;
    assert_eq!(body["username"], user.0, "{body}");
    session_cookie(&headers).0
}

async fn login_sets_a_fresh_session_cookie_and_me_answers(mode: Mode) {
    let server = Server::start(mode, Config::default()).await;
    let b = browser();

    expect_problem(get(&b, &server, "/me").await, StatusCode::UNAUTHORIZED).await;
    expect_problem(
        login(&b, &server, (ALICE.0, "wrong password")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_problem(
        login(&b, &server, ("nobody", "whatever")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    let res = login(&b, &server, ALICE).await;
    let (headers, body) = expect_json(res, StatusCode::OK).await;
    assert_eq!(body, json!({"userId": "u-alice", "username": "alice"}));
    let (first, attrs) = session_cookie(&headers);
    assert!(first.len() >= 32, "a short session token: {first:?}");
    for wanted in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(
            attrs.iter().any(|a| a == wanted),
            "no {wanted} in {attrs:?}"
        );
    }
    assert!(
        !attrs.iter().any(|a| a.eq_ignore_ascii_case("secure")),
        "Secure with secure_cookies = false: {attrs:?}"
    );

    let (_, me) = expect_json(get(&b, &server, "/me").await, StatusCode::OK).await;
    assert_eq!(me["userId"], "u-alice");
    assert_eq!(me["username"], "alice");
    assert_eq!(me["permissions"], json!(["admin"]));
    for field in ["createdAt", "lastActivity"] {
        let at = me[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field} in {me}"));
        assert!(at.starts_with("20") && at.ends_with('Z'), "{field}: {at}");
    }

    // Logging in again while carrying the cookie gives a new token; the old one is dead.
    let second = login_ok(&b, &server, ALICE).await;
    assert_ne!(second, first, "login kept the session token it was sent");
    expect_problem(
        me_with_token(&server, &first).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_json(me_with_token(&server, &second).await, StatusCode::OK).await;
    let (_, me) = expect_json(get(&b, &server, "/me").await, StatusCode::OK).await;
    assert_eq!(me["userId"], "u-alice");

    // Another user's login in another browser is another session.
    let bob = browser();
    let bob_token = login_ok(&bob, &server, BOB).await;
    assert_ne!(bob_token, second);
    let (_, me) = expect_json(get(&bob, &server, "/me").await, StatusCode::OK).await;
    assert_eq!(me["userId"], "u-bob");
    assert_eq!(me["permissions"], json!([]));
}

async fn logout_destroys_the_session_and_clears_the_cookie(mode: Mode) {
    let server = Server::start(mode, Config::default()).await;
    let b = browser();
    let token = login_ok(&b, &server, BOB).await;
    expect_json(get(&b, &server, "/me").await, StatusCode::OK).await;

    let res = b
        .post(server.url("/logout"))
        .send()
        .await
        .expect("POST /logout");
    let (headers, _) = expect_status(res, StatusCode::NO_CONTENT).await;
    let (value, attrs) = session_cookie(&headers);
    assert!(value.is_empty(), "the cookie is not cleared: {value:?}");
    assert!(attrs.iter().any(|a| a == "Max-Age=0"), "{attrs:?}");

    expect_problem(get(&b, &server, "/me").await, StatusCode::UNAUTHORIZED).await;
    // Destroyed server-side: the old token replayed by hand is refused too.
    expect_problem(
        me_with_token(&server, &token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // Logging out without a session is harmless.
    let res = client()
        .post(server.url("/logout"))
        .send()
        .await
        .expect("POST /logout");
    expect_status(res, StatusCode::NO_CONTENT).await;
}

async fn user_sessions_are_revoked_by_their_user_or_an_admin(mode: Mode) {
    let server = Server::start(mode, Config::default()).await;
    let (bob_phone, bob_laptop, alice) = (browser(), browser(), browser());
    let (_, _, _) = tokio::join!(
        login_ok(&bob_phone, &server, BOB),
        login_ok(&bob_laptop, &server, BOB),
        login_ok(&alice, &server, ALICE),
    );

    expect_problem(
        delete(&client(), &server, "/users/u-bob/sessions").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // Bob may not sign Alice out.
    expect_problem(
        delete(&bob_phone, &server, "/users/u-alice/sessions").await,
        StatusCode::FORBIDDEN,
    )
    .await;
    expect_json(get(&alice, &server, "/me").await, StatusCode::OK).await;

    // Bob signs himself out everywhere, this device included.
    let (_, body) = expect_json(
        delete(&bob_phone, &server, "/users/u-bob/sessions").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body, json!({"revoked": 2}));
    for b in [&bob_phone, &bob_laptop] {
        expect_problem(get(b, &server, "/me").await, StatusCode::UNAUTHORIZED).await;
    }

    // An admin signs Bob out; her own session survives.
    login_ok(&bob_laptop, &server, BOB).await;
    let (_, body) = expect_json(
        delete(&alice, &server, "/users/u-bob/sessions").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body, json!({"revoked": 1}));
    expect_problem(
        get(&bob_laptop, &server, "/me").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_json(get(&alice, &server, "/me").await, StatusCode::OK).await;

    // Nothing left to revoke.
    let (_, body) = expect_json(
        delete(&alice, &server, "/users/u-bob/sessions").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body, json!({"revoked": 0}));
}

async fn api_keys_are_deleted_by_admins_only(mode: Mode) {
    let server = Server::start(mode, Config::default()).await;
    let api = client();
    let body = json!({"text": "hello"});
    // The key works, and is now in the caches.
    expect_json(
        analyze(&api, &server, Some(DEMO_KEY), None, &body).await,
        StatusCode::OK,
    )
    .await;

    let path = "/admin/api-keys/k-demo";
    expect_problem(
        delete(&client(), &server, path).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let (bob, alice) = (browser(), browser());
    tokio::join!(
        login_ok(&bob, &server, BOB),
        login_ok(&alice, &server, ALICE)
    );
    expect_problem(delete(&bob, &server, path).await, StatusCode::FORBIDDEN).await;
    expect_json(
        analyze(&api, &server, Some(DEMO_KEY), None, &body).await,
        StatusCode::OK,
    )
    .await;

    expect_problem(
        delete(&alice, &server, "/admin/api-keys/k-nope").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_status(delete(&alice, &server, path).await, StatusCode::NO_CONTENT).await;
    expect_problem(
        analyze(&api, &server, Some(DEMO_KEY), None, &body).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // Gone: a second delete finds nothing.
    expect_problem(delete(&alice, &server, path).await, StatusCode::NOT_FOUND).await;
}

async fn failed_logins_are_limited_per_client_ip(mode: Mode) {
    // A fixed window of an hour: no refill, and no window boundary, during the test.
    let config = Config {
        algorithm: "fixed-window",
        window_seconds: 3600,
        login_per_window: 3,
        ..Config::default()
    };
    let server = Server::start(mode, config).await;
    let b = browser();

    // Successful logins do not count.
    for _ in 0..5 {
        login_ok(&b, &server, BOB).await;
    }
    for _ in 0..3 {
        expect_problem(
            login(&b, &server, (BOB.0, "wrong")).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    // Past the limit every attempt is refused, the right password included.
    for creds in [BOB, (BOB.0, "wrong"), ALICE] {
        let res = login(&b, &server, creds).await;
        let (headers, problem) = expect_problem(res, StatusCode::TOO_MANY_REQUESTS).await;
        let retry_after = header_u64(&headers, RETRY_AFTER.as_str());
        assert!(
            (1..=3600).contains(&retry_after),
            "Retry-After {retry_after}"
        );
        assert!(problem["retryAfter"].as_u64().is_some(), "{problem}");
        assert!(
            !headers.contains_key(SET_COOKIE),
            "a refused login set a cookie: {headers:?}"
        );
    }
    // The session from before is untouched.
    expect_json(get(&b, &server, "/me").await, StatusCode::OK).await;
}
