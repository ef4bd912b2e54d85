//! The real session layer in front of the idempotency layer, with two users sending the same
//! key and body: with the session's principal mode each user has their own scope; without it
//! the keyed request is refused, never put in a scope the users share. On memory, Redis and
//! the 3-master cluster.

mod common;

use std::convert::Infallible;

use bytes::Bytes;
use common::{Counter, rejection};
use http::{Request, Response, StatusCode, header};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use tower::ServiceExt;
use tower::util::BoxCloneService;
use tower_vigil_core::Backend;
use tower_vigil_idempotency::{BoxError, IdempotencyLayer, IdempotencyRejectionKind, RequestBody};
use tower_vigil_session::{Session, SessionManagerLayer};

type Svc = BoxCloneService<Request<Full<Bytes>>, Response<Bytes>, Infallible>;

/// `POST /login/{user}` logs in; `POST /pay` answers with the session's user and the body,
/// so a response replayed to the wrong user shows it.
fn app<B: Backend>(backend: B, principal: bool, runs: Counter) -> Svc {
    let handler = tower::service_fn(move |req: Request<RequestBody<Full<Bytes>>>| {
        let runs = runs.clone();
        async move {
            let session = req.extensions().get::<Session>().unwrap().clone();
            let path = req.uri().path().to_owned();
            if let Some(user) = path.strip_prefix("/login/") {
                session.set_user_id(user).await.unwrap();
                return Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())));
            }
            runs.bump();
            let user = session.user_id().await.unwrap().unwrap_or_default();
            let body = req.into_body().collect().await.unwrap().to_bytes();
            let text = format!("{user} paid {}", String::from_utf8_lossy(&body));
            let mut res = Response::new(Full::new(Bytes::from(text)));
            *res.status_mut() = StatusCode::CREATED;
            Ok(res)
        }
    });
    let svc = tower::ServiceBuilder::new()
        .layer(
            SessionManagerLayer::builder(backend.clone())
                .principal(principal)
                .build()
                .unwrap(),
        )
        .layer(IdempotencyLayer::new(backend))
        .service(handler)
        .map_response(|res| res.map(|b| b.boxed_unsync()))
        .and_then(|res: Response<UnsyncBoxBody<Bytes, BoxError>>| async move {
            let (parts, body) = res.into_parts();
            let bytes = body
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            Ok::<_, Infallible>(Response::from_parts(parts, bytes))
        });
    BoxCloneService::new(svc)
}

/// Logs `user` in and returns the `Cookie` header that carries their session.
async fn login(svc: &Svc, user: &str) -> String {
    let req = Request::post(format!("/login/{user}"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let res = svc.clone().oneshot(req).await.unwrap();
    let set_cookie = res.headers()[header::SET_COOKIE].to_str().unwrap();
    set_cookie.split(';').next().unwrap().to_owned()
}

async fn pay(svc: &Svc, cookie: &str) -> Response<Bytes> {
    let req = Request::post("/pay")
        .header(header::COOKIE, cookie)
        .header("idempotency-key", "\"order-1\"")
        .body(Full::new(Bytes::from_static(b"10 EUR")))
        .unwrap();
    svc.clone().oneshot(req).await.unwrap()
}

async fn with_the_session_principal_each_user_has_their_own_scope<B: Backend>(s: B) {
    let runs = Counter::default();
    let svc = app(s, true, runs.clone());
    let (alice, bob) = (login(&svc, "alice").await, login(&svc, "bob").await);
    assert_eq!(pay(&svc, &alice).await.body(), "alice paid 10 EUR");
    let bobs = pay(&svc, &bob).await;
    assert_eq!(bobs.body(), "bob paid 10 EUR", "never alice's response");
    assert!(bobs.headers().get("idempotent-replayed").is_none());
    let alices_retry = pay(&svc, &alice).await;
    assert_eq!(alices_retry.headers()["idempotent-replayed"], "true");
    assert_eq!(alices_retry.body(), "alice paid 10 EUR");
    assert_eq!(runs.get(), 2);
}

async fn without_a_principal_keyed_requests_are_refused_not_shared<B: Backend>(s: B) {
    let runs = Counter::default();
    let svc = app(s, false, runs.clone());
    let (alice, bob) = (login(&svc, "alice").await, login(&svc, "bob").await);
    for cookie in [&alice, &bob] {
        let res = pay(&svc, cookie).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(rejection(&res), Some(IdempotencyRejectionKind::Unscoped));
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
    }
    assert_eq!(runs.get(), 0);
}

on_every_backend!(
    with_the_session_principal_each_user_has_their_own_scope,
    without_a_principal_keyed_requests_are_refused_not_shared,
);
