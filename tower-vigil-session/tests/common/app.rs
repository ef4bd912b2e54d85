//! A small app behind the layer, driven in-process.
//!
//! Routes: `/get/<name>`, `/set/<name>/<json>`, `/remove/<name>`, `/login/<user>` (cycle +
//! user), `/cycle`, `/logout`, `/whoami`, `/noop` (never touches the session),
//! `/slow-set/<name>/<json>` (reads, signals `entered`, waits for a `release` permit, writes),
//! `/slow-logout` (same gates around a destroy).

use std::convert::Infallible;
use std::sync::Arc;

use http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use tokio::sync::Semaphore;
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceBuilder, ServiceExt, service_fn};
use tower_vigil_core::Principal;
use tower_vigil_core::http::ResponseBody;
use tower_vigil_session::{Session, SessionManagerLayer, SessionRejection};

type Svc = BoxCloneSyncService<Request<String>, Response<ResponseBody<String>>, Infallible>;

#[derive(Clone)]
pub struct App {
    svc: Svc,
    pub entered: Arc<Semaphore>,
    pub release: Arc<Semaphore>,
    pub cookie_name: String,
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub set_cookie: Vec<String>,
    pub headers: http::HeaderMap,
    pub body: String,
    pub rejection: Option<SessionRejection>,
}

impl Resp {
    /// The token in the response's `Set-Cookie`, if it sets one (empty when it clears it).
    pub fn token(&self) -> Option<String> {
        self.set_cookie.iter().find_map(|c| {
            let (pair, _) = c.split_once(';')?;
            let (_, v) = pair.split_once('=')?;
            Some(v.to_owned())
        })
    }

    pub fn clears_cookie(&self) -> bool {
        self.set_cookie.iter().any(|c| c.contains("Max-Age=0"))
    }
}

async fn handle(
    req: Request<String>,
    entered: Arc<Semaphore>,
    release: Arc<Semaphore>,
) -> Result<Response<String>, Infallible> {
    let session = req.extensions().get::<Session>().expect("layer").clone();
    let path = req.uri().path().to_owned();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let gate = || async {
        entered.add_permits(1);
        release.acquire().await.expect("open").forget();
    };
    let out: Result<String, tower_vigil_session::SessionError> = async {
        match parts.as_slice() {
            ["noop"] => Ok("noop".into()),
            ["get", name] => Ok(session
                .get::<serde_json::Value>(name)
                .await?
                .map_or("null".into(), |v| v.to_string())),
            ["set", name, value] => {
                let v: serde_json::Value = serde_json::from_str(value).expect("json");
                session.insert(name, v).await?;
                Ok("ok".into())
            }
            ["slow-set", name, value] => {
                let _ = session.get::<serde_json::Value>(name).await?;
                gate().await;
                let v: serde_json::Value = serde_json::from_str(value).expect("json");
                session.insert(name, v).await?;
                Ok("ok".into())
            }
            ["remove", name] => session.remove(name).await.map(|()| "ok".into()),
            ["login", user] => {
                session.cycle_id().await?;
                session.set_user_id(user).await?;
                Ok("ok".into())
            }
            ["cycle"] => session.cycle_id().await.map(|()| "ok".into()),
            ["logout"] => session.destroy().await.map(|()| "ok".into()),
            ["slow-logout"] => {
                let _ = session.user_id().await?;
                gate().await;
                session.destroy().await.map(|()| "ok".into())
            }
            ["whoami"] => Ok(session.user_id().await?.unwrap_or_default()),
            ["principal"] => Ok(Principal::from_extensions(req.extensions())
                .map(|p| p.id().to_owned())
                .unwrap_or_default()),
            ["meta"] => {
                let c = session.created_at().await?;
                let l = session.last_activity().await?;
                Ok(format!(
                    "{:?} {:?}",
                    c.map(|t| t.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()),
                    l.map(|t| t.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis())
                ))
            }
            other => panic!("no route {other:?}"),
        }
    }
    .await;
    Ok(match out {
        Ok(body) => Response::new(body),
        // A handler that sees a backend error answers 500: the layer must turn it into 503.
        Err(e) => {
            let mut r = Response::new(e.to_string());
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            r
        }
    })
}

impl App {
    pub fn new(layer: SessionManagerLayer) -> Self {
        let entered = Arc::new(Semaphore::new(0));
        let release = Arc::new(Semaphore::new(0));
        let (e, r) = (entered.clone(), release.clone());
        let svc = ServiceBuilder::new()
            .layer(layer)
            .service(service_fn(move |req| handle(req, e.clone(), r.clone())));
        Self {
            svc: BoxCloneSyncService::new(svc),
            entered,
            release,
            cookie_name: "__Host-vigil_session".into(),
        }
    }

    /// Sends `path` with the raw `Cookie` header `cookie`.
    pub async fn send_raw(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        let mut b = Request::get(path);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let res = self
            .svc
            .clone()
            .ready()
            .await
            .unwrap()
            .call(b.body(String::new()).unwrap())
            .await
            .unwrap();
        let (parts, body) = res.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        Resp {
            status: parts.status,
            set_cookie: parts
                .headers
                .get_all(header::SET_COOKIE)
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect(),
            rejection: parts.extensions.get::<SessionRejection>().cloned(),
            headers: parts.headers,
            body: String::from_utf8(body.to_vec()).unwrap(),
        }
    }

    /// Sends `path` with the session token `token` (if any) as the cookie.
    pub async fn send(&self, path: &str, token: Option<&str>) -> Resp {
        match token {
            Some(t) => {
                let cookie = format!("{}={t}", self.cookie_name);
                self.send_raw(path, &[("cookie", &cookie)]).await
            }
            None => self.send_raw(path, &[]).await,
        }
    }

    /// A new session holding `name = json`; returns its token.
    pub async fn new_session(&self, name: &str, json: &str) -> String {
        let r = self.send(&format!("/set/{name}/{json}"), None).await;
        assert_eq!(r.status, 200, "{r:?}");
        r.token().expect("a new session sets a cookie")
    }

    /// A logged-in session of `user`; returns its token.
    pub async fn login(&self, user: &str) -> String {
        let r = self.send(&format!("/login/{user}"), None).await;
        assert_eq!(r.status, 200, "{r:?}");
        r.token().expect("login sets a cookie")
    }
}
