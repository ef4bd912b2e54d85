//! The load: clients sending every route in a loop, each answer checked against the failure
//! policy of the layers it went through, and two read-your-write checks that tell a lost
//! write from one Redis forgot by being killed (`epoch` counts the kills).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use parking_lot::Mutex;
use tokio::time::Instant;
use tower::ServiceExt;

use crate::stack::{API_KEY, COOKIE, Svc};

/// A hang check, not a speed claim: a request makes at most a handful of backend calls, each
/// bounded by the 250 ms timeout; anything past this is hung.
pub(crate) const HANG_BOUND: Duration = Duration::from_secs(5);

/// One answer, body read.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn body(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What the load saw.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) sent: u64,
    pub(crate) hung: u64,
    /// The longest an answer took.
    pub(crate) slowest: Duration,
    /// Answers by `route status`.
    pub(crate) answers: BTreeMap<String, u64>,
    /// Answers no failure policy allows, and lost writes.
    pub(crate) violations: Vec<String>,
}

/// The clients' shared view: the service, the kill count and the tally.
#[derive(Clone)]
pub(crate) struct Load {
    pub(crate) svc: Svc,
    pub(crate) epoch: Arc<AtomicU64>,
    pub(crate) tally: Arc<Mutex<Tally>>,
}

impl Load {
    /// Sends `req` as client `client`; `None` when it did not answer within [`HANG_BOUND`]
    /// (counted as hung).
    pub(crate) async fn send(&self, client: usize, mut req: Request<String>) -> Option<Answer> {
        let route = format!("{} {}", req.method(), req.uri().path());
        let h = req.headers_mut();
        h.insert("x-client", client.into());
        h.insert("x-api-key", API_KEY.parse().expect("a header value"));
        self.tally.lock().sent += 1;
        let sent = async {
            let res = self.svc.clone().oneshot(req).await.expect("infallible");
            let (parts, body) = res.into_parts();
            let body = body.collect().await.map(|b| b.to_bytes());
            (parts, body)
        };
        let started = Instant::now();
        let Ok((parts, body)) = tokio::time::timeout(HANG_BOUND, sent).await else {
            self.tally.lock().hung += 1;
            return None;
        };
        let mut tally = self.tally.lock();
        tally.slowest = tally.slowest.max(started.elapsed());
        let body = match body {
            Ok(body) => body,
            Err(e) => {
                tally.violations.push(format!("{route}: body failed: {e}"));
                return None;
            }
        };
        let answer = Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        };
        *tally
            .answers
            .entry(format!("{route} {}", answer.status.as_u16()))
            .or_default() += 1;
        if let Err(why) = allowed(&route, &answer) {
            tally.violations.push(format!("{route}: {why}"));
        }
        Some(answer)
    }

    /// Runs client `client` until `deadline`.
    pub(crate) async fn client(self, client: usize, deadline: Instant) {
        let mut n = 0u64;
        while Instant::now() < deadline {
            n += 1;
            self.send(client, get("/ping")).await;
            self.pay_twice(client, &format!("c{client}-{n}")).await;
            self.login_then_whoami(client, &format!("u{client}-{n}"))
                .await;
            // A little room between rounds, so a client answered from the deny cache does
            // not starve the others of the two cores.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// A payment, then its retry: while Redis was not killed in between, a payment that ran
    /// and was stored is replayed, never run again.
    async fn pay_twice(&self, client: usize, key: &str) {
        let before = self.epoch.load(Ordering::SeqCst);
        let Some(first) = self.send(client, pay(key)).await else {
            return;
        };
        let stored = first.status == StatusCode::CREATED
            && first.header("idempotent-replayed").is_empty()
            && first.header("idempotency-status") != "not-stored";
        if !stored {
            return;
        }
        let Some(retry) = self.send(client, pay(key)).await else {
            return;
        };
        let fresh =
            retry.status == StatusCode::CREATED && retry.header("idempotent-replayed") != "true";
        let replayed_other =
            retry.status == StatusCode::CREATED && !fresh && retry.body != first.body;
        if self.epoch.load(Ordering::SeqCst) == before && (fresh || replayed_other) {
            self.tally.lock().violations.push(format!(
                "POST /pay {key}: ran again or replayed another answer without a kill: first {:?}, retry {:?}",
                first.body(),
                retry.body()
            ));
        }
    }

    /// A login, then a request with its cookie: while Redis was not killed in between, a
    /// login answered 200 has its session stored.
    async fn login_then_whoami(&self, client: usize, user: &str) {
        let before = self.epoch.load(Ordering::SeqCst);
        let mut login = Request::post("/login");
        login = login.header("x-user", user);
        let Some(first) = self
            .send(client, login.body(String::new()).expect("a request"))
            .await
        else {
            return;
        };
        if first.status != StatusCode::OK {
            return;
        }
        let Some(token) = token(&first.headers) else {
            self.tally
                .lock()
                .violations
                .push(format!("POST /login {user}: 200 without a cookie"));
            return;
        };
        let whoami = Request::get("/whoami")
            .header(header::COOKIE, format!("{COOKIE}={token}"))
            .body(String::new())
            .expect("a request");
        let Some(me) = self.send(client, whoami).await else {
            return;
        };
        if me.status == StatusCode::OK
            && me.body() != user
            && self.epoch.load(Ordering::SeqCst) == before
        {
            self.tally.lock().violations.push(format!(
                "POST /login {user}: answered 200 but the session reads {:?} without a kill",
                me.body()
            ));
        }
    }
}

fn get(path: &str) -> Request<String> {
    Request::get(path).body(String::new()).expect("a request")
}

fn pay(key: &str) -> Request<String> {
    Request::post("/pay")
        .header("idempotency-key", format!("\"{key}\""))
        .body("{\"amount\":1}".to_owned())
        .expect("a request")
}

/// The session token a response's `Set-Cookie` carries.
fn token(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::SET_COOKIE).iter().find_map(|c| {
        let (pair, _) = c.to_str().ok()?.split_once(';')?;
        let (name, value) = pair.split_once('=')?;
        (name == COOKIE && !value.is_empty()).then(|| value.to_owned())
    })
}

/// Whether the layers' failure policies allow `answer` on `route`: the rate limit fails open
/// (never a 503 of its own), the API key is served from the key store or the in-process
/// cache (never a 503 with the key store up), sessions and idempotency answer 503
/// problem+json, and nothing answers 500.
fn allowed(route: &str, answer: &Answer) -> Result<(), String> {
    let status = answer.status.as_u16();
    let ok: &[u16] = match route {
        "GET /ping" => &[200, 429],
        "POST /pay" => &[201, 409, 429, 503],
        "POST /login" | "GET /whoami" => &[200, 429, 503],
        _ => &[],
    };
    if !ok.contains(&status) {
        return Err(format!("{status} {:?}", answer.body()));
    }
    if status == 503 && answer.header("content-type") != "application/problem+json" {
        return Err(format!("503 without problem+json: {:?}", answer.body()));
    }
    Ok(())
}
