//! `CrossSiteLayer` inside `SessionManagerLayer`: every method × `Sec-Fetch-Site` × `Origin` ×
//! token combination, token rotation on login, no token from the query string, the token in a
//! form body (and the body handed on whole), the constant-time comparison's paths, no session,
//! the builder's checks, the problem+json answer and the refusal metric. On memory, Redis, the
//! cluster and Sentinel.

mod common;

use std::convert::Infallible;
use std::time::Duration;

use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceBuilder, ServiceExt, service_fn};
use tower_vigil_core::Backend;
use tower_vigil_core::http::ResponseBody;
use tower_vigil_session::metrics::CROSS_SITE_REJECTIONS_TOTAL;
use tower_vigil_session::{
    CrossSiteBody, CrossSiteLayer, CrossSiteRejection, CrossSiteRejectionKind as K, Session,
    SessionManagerLayer, csrf_token,
};
use tower_vigil_tests::fixtures;

use common::{Counts, Fixture};

const TRUSTED: &str = "https://app.example";

type Svc = BoxCloneSyncService<Request<String>, Response<String>, Infallible>;

/// Routes: `GET /token` (the session's token), `/login` (cycle, user, then the new token),
/// anything else echoes `ok:<method>:<body>`.
async fn handle(req: Request<CrossSiteBody<String>>) -> Result<Response<String>, Infallible> {
    let session = req.extensions().get::<Session>().cloned();
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let out = match (path.as_str(), session) {
        ("/token", Some(s)) => csrf_token(&s).await.unwrap().into_string(),
        ("/login", Some(s)) => {
            s.cycle_id().await.unwrap();
            s.set_user_id("alice").await.unwrap();
            csrf_token(&s).await.unwrap().into_string()
        }
        _ => format!("ok:{method}:{}", String::from_utf8_lossy(&body)),
    };
    Ok(Response::new(out))
}

/// Collects the layered response into `Response<String>`, keeping the extensions.
fn app(session: Option<SessionManagerLayer>, cross_site: CrossSiteLayer) -> Svc {
    let inner = ServiceBuilder::new()
        .layer(cross_site)
        .service(service_fn(handle));
    let flatten = |res: Response<ResponseBody<String>>| async move {
        let (parts, body) = res.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        Ok::<_, Infallible>(Response::from_parts(
            parts,
            String::from_utf8(body.to_vec()).unwrap(),
        ))
    };
    match session {
        Some(layer) => {
            let svc = ServiceBuilder::new().layer(layer).service(inner);
            let svc = svc.and_then(
                |res: Response<ResponseBody<ResponseBody<String>>>| async move {
                    let (parts, body) = res.into_parts();
                    let body = body.collect().await.unwrap().to_bytes();
                    Ok::<_, Infallible>(Response::from_parts(
                        parts,
                        String::from_utf8(body.to_vec()).unwrap(),
                    ))
                },
            );
            BoxCloneSyncService::new(svc)
        }
        None => BoxCloneSyncService::new(inner.and_then(flatten)),
    }
}

async fn send(app: &Svc, req: Request<String>) -> Response<String> {
    app.clone().ready().await.unwrap().call(req).await.unwrap()
}

fn kind(res: &Response<String>) -> Option<K> {
    res.extensions()
        .get::<CrossSiteRejection>()
        .map(|r| r.kind())
}

fn cookie_of(res: &Response<String>) -> String {
    let set = res.headers()[header::SET_COOKIE].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

/// A session with a token: (cookie pair, token).
async fn session_with_token(app: &Svc) -> (String, String) {
    let res = send(app, Request::get("/token").body(String::new()).unwrap()).await;
    assert_eq!(res.status(), StatusCode::OK);
    (cookie_of(&res), res.body().clone())
}

fn default_app<S: Backend>(store: S) -> Svc {
    let cross = CrossSiteLayer::builder()
        .trusted_origins([TRUSTED])
        .build()
        .unwrap();
    app(Some(SessionManagerLayer::new(store)), cross)
}

/// The same token with its first character changed: right length, wrong bytes.
fn flipped(token: &str) -> String {
    let first = if token.starts_with('A') { 'B' } else { 'A' };
    format!("{first}{}", &token[1..])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Absent,
    Valid,
    Wrong,
    QueryOnly,
}

const METHODS: [Method; 7] = [
    Method::GET,
    Method::HEAD,
    Method::OPTIONS,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];
const SITES: [Option<&str>; 6] = [
    None,
    Some("same-origin"),
    Some("none"),
    Some("same-site"),
    Some("cross-site"),
    Some("Cross-Site; garbage"),
];
const ORIGINS: [Option<&str>; 4] = [
    None,
    Some("HTTPS://App.Example:443"),
    Some("https://evil.example"),
    Some("null"),
];
const TOKENS: [Tok; 4] = [Tok::Absent, Tok::Valid, Tok::Wrong, Tok::QueryOnly];

fn request(
    method: &Method,
    site: Option<&str>,
    origin: Option<&str>,
    tok: Tok,
    cookie: &str,
    token: &str,
) -> Request<String> {
    let uri = match tok {
        Tok::QueryOnly => format!("/act?csrf_token={token}"),
        _ => "/act".to_owned(),
    };
    let mut b = Request::builder()
        .method(method.clone())
        .uri(uri)
        .header(header::COOKIE, cookie);
    if let Some(s) = site {
        b = b.header("sec-fetch-site", s);
    }
    if let Some(o) = origin {
        b = b.header(header::ORIGIN, o);
    }
    match tok {
        Tok::Valid => b = b.header("x-csrf-token", token),
        Tok::Wrong => b = b.header("x-csrf-token", flipped(token)),
        _ => {}
    }
    b.body("payload".to_owned()).unwrap()
}

/// What the default layer (trusting `TRUSTED`) decides.
fn expected_default(
    method: &Method,
    site: Option<&str>,
    origin: Option<&str>,
    tok: Tok,
) -> Option<K> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    match site {
        Some("same-origin" | "none") => None,
        Some("same-site") => Some(K::SameSiteNotAllowed),
        Some("cross-site") => Some(K::CrossSite),
        Some(_) => Some(K::UnknownFetchSite),
        None => match origin {
            Some(o) if o.starts_with("HTTPS://App") => None,
            Some(_) => Some(K::UntrustedOrigin),
            None => token_verdict(tok),
        },
    }
}

fn token_verdict(tok: Tok) -> Option<K> {
    match tok {
        Tok::Valid => None,
        Tok::Wrong => Some(K::BadToken),
        Tok::Absent | Tok::QueryOnly => Some(K::MissingToken),
    }
}

/// What a layer with `allow_same_site(true)` and `require_token(true)` decides.
fn expected_strict(
    method: &Method,
    site: Option<&str>,
    origin: Option<&str>,
    tok: Tok,
) -> Option<K> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    match site {
        Some("same-origin" | "none" | "same-site") => token_verdict(tok),
        Some("cross-site") => Some(K::CrossSite),
        Some(_) => Some(K::UnknownFetchSite),
        None => match origin {
            Some(o) if o.starts_with("HTTPS://App") => token_verdict(tok),
            Some(_) => Some(K::UntrustedOrigin),
            None => token_verdict(tok),
        },
    }
}

async fn run_table(app: &Svc, expected: fn(&Method, Option<&str>, Option<&str>, Tok) -> Option<K>) {
    let (cookie, token) = session_with_token(app).await;
    let mut checked = 0;
    for method in &METHODS {
        for site in SITES {
            for origin in ORIGINS {
                for tok in TOKENS {
                    let req = request(method, site, origin, tok, &cookie, &token);
                    let res = send(app, req).await;
                    let case = format!("{method} site={site:?} origin={origin:?} token={tok:?}");
                    match expected(method, site, origin, tok) {
                        None => {
                            assert_eq!(res.status(), StatusCode::OK, "{case}: {res:?}");
                            assert_eq!(kind(&res), None, "{case}");
                            assert_eq!(res.body(), &format!("ok:{method}:payload"), "{case}");
                        }
                        Some(want) => {
                            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{case}: {res:?}");
                            assert_eq!(kind(&res), Some(want), "{case}");
                        }
                    }
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 7 * 6 * 4 * 4);
}

async fn every_combination<S: Fixture>(store: S, _unit: Duration) {
    run_table(&default_app(store), expected_default).await;
}

async fn every_combination_same_site_and_required_token<S: Fixture>(store: S, _unit: Duration) {
    let cross = CrossSiteLayer::builder()
        .trusted_origins([TRUSTED])
        .allow_same_site(true)
        .require_token(true)
        .build()
        .unwrap();
    run_table(
        &app(Some(SessionManagerLayer::new(store)), cross),
        expected_strict,
    )
    .await;
}

fn post(uri: &str, cookie: &str, headers: &[(&str, &str)], body: &str) -> Request<String> {
    let mut b = Request::post(uri).header(header::COOKIE, cookie);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(body.to_owned()).unwrap()
}

async fn token_rotates_on_login<S: Fixture>(store: S, _unit: Duration) {
    let app = default_app(store);
    let (before_cookie, before) = session_with_token(&app).await;
    let login = send(
        &app,
        post("/login", &before_cookie, &[("x-csrf-token", &before)], ""),
    )
    .await;
    assert_eq!(login.status(), StatusCode::OK, "{login:?}");
    let after_cookie = cookie_of(&login);
    let after = login.body().clone();
    assert_ne!(after_cookie, before_cookie, "the login cycled the id");
    assert_ne!(after, before, "the login rotated the token");

    let old = send(
        &app,
        post("/act", &after_cookie, &[("x-csrf-token", &before)], "x"),
    )
    .await;
    assert_eq!(
        kind(&old),
        Some(K::BadToken),
        "a token from before login is refused"
    );
    let new = send(
        &app,
        post("/act", &after_cookie, &[("x-csrf-token", &after)], "x"),
    )
    .await;
    assert_eq!(new.status(), StatusCode::OK, "{new:?}");
    assert_eq!(new.body(), "ok:POST:x");
    // The old cookie's session is gone: neither token opens it.
    for t in [&before, &after] {
        let res = send(
            &app,
            post("/act", &before_cookie, &[("x-csrf-token", t)], "x"),
        )
        .await;
        assert_eq!(kind(&res), Some(K::BadToken));
    }
    // The new token stays the same until the next cycle.
    let res = send(
        &app,
        Request::get("/token")
            .header(header::COOKIE, &after_cookie)
            .body(String::new())
            .unwrap(),
    )
    .await;
    assert_eq!(res.body(), &after);
}

async fn query_string_is_never_read<S: Fixture>(store: S, _unit: Duration) {
    let app = default_app(store);
    let (cookie, token) = session_with_token(&app).await;
    let uri = format!("/act?csrf_token={token}&x-csrf-token={token}");
    let plain = send(&app, post(&uri, &cookie, &[], "")).await;
    assert_eq!(kind(&plain), Some(K::MissingToken));
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let res = send(&app, post(&uri, &cookie, &form, "a=1")).await;
    assert_eq!(kind(&res), Some(K::MissingToken));
    // The same token where it belongs passes.
    let res = send(
        &app,
        post("/act", &cookie, &form, &format!("csrf_token={token}")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn form_token_and_whole_body<S: Fixture>(store: S, _unit: Duration) {
    let app = default_app(store);
    let (cookie, token) = session_with_token(&app).await;
    let form = [(
        "content-type",
        "application/x-www-form-urlencoded; charset=UTF-8",
    )];
    let body = format!("amount=10&note=a+b%20c&csrf_token={token}&tail=%F0%9F%A6%80");
    let res = send(&app, post("/act", &cookie, &form, &body)).await;
    assert_eq!(res.status(), StatusCode::OK, "{res:?}");
    assert_eq!(
        res.body(),
        &format!("ok:POST:{body}"),
        "the handler got the same bytes"
    );

    let res = send(
        &app,
        post(
            "/act",
            &cookie,
            &form,
            &format!("csrf_token={}", flipped(&token)),
        ),
    )
    .await;
    assert_eq!(kind(&res), Some(K::BadToken));
    let res = send(&app, post("/act", &cookie, &form, "amount=10")).await;
    assert_eq!(kind(&res), Some(K::MissingToken));
    let res = send(&app, post("/act", &cookie, &form, "csrf_token=")).await;
    assert_eq!(kind(&res), Some(K::MissingToken));
    // Not a form: the body is not read for a token.
    let json = [("content-type", "application/json")];
    let res = send(
        &app,
        post("/act", &cookie, &json, &format!("csrf_token={token}")),
    )
    .await;
    assert_eq!(kind(&res), Some(K::MissingToken));
    // The header wins, and the form body then streams through untouched.
    let both = [form[0], ("x-csrf-token", token.as_str())];
    let res = send(&app, post("/act", &cookie, &both, "csrf_token=wrong")).await;
    assert_eq!(res.body(), "ok:POST:csrf_token=wrong");
}

async fn constant_time_comparison_paths<S: Fixture>(store: S, _unit: Duration) {
    let app = default_app(store);
    let (cookie, token) = session_with_token(&app).await;
    let cases = [
        (token[..token.len() - 1].to_owned(), Some(K::BadToken)),
        (format!("{token}A"), Some(K::BadToken)),
        (flipped(&token), Some(K::BadToken)),
        (token.to_uppercase(), Some(K::BadToken)),
        ("x".to_owned(), Some(K::BadToken)),
        (String::new(), Some(K::MissingToken)),
        (token.clone(), None),
    ];
    for (presented, want) in cases {
        let res = send(
            &app,
            post("/act", &cookie, &[("x-csrf-token", &presented)], ""),
        )
        .await;
        assert_eq!(kind(&res), want, "{presented:?}");
    }
    // A session that never made a token matches nothing, not even an empty stored value.
    let fresh = send(
        &app,
        post(
            "/act",
            "__Host-vigil_session=none",
            &[("x-csrf-token", &token)],
            "",
        ),
    )
    .await;
    assert_eq!(kind(&fresh), Some(K::BadToken));
}

on_every_backend!(
    every_combination,
    every_combination_same_site_and_required_token,
    token_rotates_on_login,
    query_string_is_never_read,
    form_token_and_whole_body,
    constant_time_comparison_paths,
);

#[tokio::test]
async fn body_over_the_limit_is_a_413() {
    let cross = CrossSiteLayer::builder().body_limit(16).build().unwrap();
    let app = app(Some(SessionManagerLayer::new(fixtures::memory())), cross);
    let (cookie, token) = session_with_token(&app).await;
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let res = send(
        &app,
        post("/act", &cookie, &form, &format!("csrf_token={token}")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(kind(&res), Some(K::BodyTooLarge));
    // The header still works for a large body.
    let res = send(
        &app,
        post(
            "/act",
            &cookie,
            &[("x-csrf-token", &token)],
            &"x".repeat(100),
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn without_a_session_a_needed_token_is_refused() {
    let app = app(None, CrossSiteLayer::new());
    let res = send(&app, post("/act", "", &[("x-csrf-token", "anything")], "")).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(kind(&res), Some(K::NoSession));
    let res = send(
        &app,
        post("/act", "", &[("sec-fetch-site", "same-origin")], ""),
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "headers alone need no session"
    );
    let strict = app_strict_no_session();
    let res = send(
        &strict,
        post("/act", "", &[("sec-fetch-site", "same-origin")], ""),
    )
    .await;
    assert_eq!(kind(&res), Some(K::NoSession));
}

fn app_strict_no_session() -> Svc {
    app(
        None,
        CrossSiteLayer::builder()
            .require_token(true)
            .build()
            .unwrap(),
    )
}

#[test]
fn refusal_is_problem_json_and_counted() {
    let counts = Counts::default();
    counts.run(|| async {
        let app = default_app(fixtures::memory());
        let res = send(
            &app,
            post("/act", "", &[("sec-fetch-site", "cross-site")], ""),
        )
        .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let problem: serde_json::Value = serde_json::from_str(res.body()).unwrap();
        assert_eq!(problem["reason"], "cross_site");
        assert_eq!(problem["status"], 403);
        send(&app, post("/act", "", &[("origin", "null")], "")).await;
        send(&app, post("/act", "", &[("origin", "null")], "")).await;
    });
    let series = |k: &str| counts.series(&format!("{CROSS_SITE_REJECTIONS_TOTAL}{{kind={k}}}"));
    assert_eq!(series("cross_site"), 1);
    assert_eq!(series("untrusted_origin"), 2);
}

#[tokio::test]
async fn custom_response_gets_the_rejection() {
    let cross = CrossSiteLayer::builder()
        .response(|r: &CrossSiteRejection| {
            let mut res = Response::new(bytes::Bytes::from(format!("no: {r}")));
            *res.status_mut() = StatusCode::IM_A_TEAPOT;
            res
        })
        .build()
        .unwrap();
    let app = app(Some(SessionManagerLayer::new(fixtures::memory())), cross);
    let res = send(
        &app,
        post("/act", "", &[("sec-fetch-site", "same-site")], ""),
    )
    .await;
    assert_eq!(res.status(), StatusCode::IM_A_TEAPOT);
    assert_eq!(res.body(), "no: same-site request refused");
    assert_eq!(kind(&res), Some(K::SameSiteNotAllowed));
}

#[test]
fn builder_checks_every_setting() {
    let bad_origins = [
        "null",
        "https://example.com/",
        "https://example.com/app",
        "example.com",
        "ftp://example.com",
        "https://example.com:99999",
        "https://user@example.com",
        "",
    ];
    for o in bad_origins {
        let err = CrossSiteLayer::builder()
            .trusted_origins(["https://ok.example", o])
            .build()
            .unwrap_err();
        assert_eq!(err.field(), "trusted_origins", "{o:?}");
    }
    let err = CrossSiteLayer::builder()
        .header("bad header")
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "header");
    let err = CrossSiteLayer::builder()
        .form_field("")
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "form_field");
    let err = CrossSiteLayer::builder().body_limit(0).build().unwrap_err();
    assert_eq!(err.field(), "body_limit");
    let err = CrossSiteLayer::builder()
        .body_limit(tower_vigil_session::cross_site::MAX_BODY_LIMIT + 1)
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "body_limit");
    // Setters never fail and the order does not matter; good values build.
    let _layer = CrossSiteLayer::builder()
        .body_limit(1024)
        .trusted_origins(["http://localhost:3000", "https://[::1]:8443"])
        .form_field("_csrf")
        .header("X-XSRF-Token")
        .build()
        .unwrap();
}

#[tokio::test]
async fn configured_header_and_field_are_used() {
    let cross = CrossSiteLayer::builder()
        .header("X-XSRF-Token")
        .form_field("_csrf")
        .build()
        .unwrap();
    let app = app(Some(SessionManagerLayer::new(fixtures::memory())), cross);
    let (cookie, token) = session_with_token(&app).await;
    let res = send(&app, post("/act", &cookie, &[("x-xsrf-token", &token)], "")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = send(&app, post("/act", &cookie, &[("x-csrf-token", &token)], "")).await;
    assert_eq!(kind(&res), Some(K::MissingToken));
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let res = send(
        &app,
        post("/act", &cookie, &form, &format!("_csrf={token}")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn duplicated_headers_are_refused() {
    let app = default_app(fixtures::memory());
    let mut h = HeaderMap::new();
    h.append("sec-fetch-site", "same-origin".parse().unwrap());
    h.append("sec-fetch-site", "same-origin".parse().unwrap());
    let mut req = post("/act", "", &[], "");
    req.headers_mut().extend(h);
    assert_eq!(kind(&send(&app, req).await), Some(K::UnknownFetchSite));
    let mut req = post("/act", "", &[], "");
    req.headers_mut()
        .append(header::ORIGIN, TRUSTED.parse().unwrap());
    req.headers_mut()
        .append(header::ORIGIN, TRUSTED.parse().unwrap());
    assert_eq!(kind(&send(&app, req).await), Some(K::UntrustedOrigin));
    // TRACE is safe too.
    let req = Request::builder()
        .method(Method::TRACE)
        .uri("/act")
        .header("sec-fetch-site", "cross-site")
        .body(String::new())
        .unwrap();
    assert_eq!(send(&app, req).await.status(), StatusCode::OK);
}
