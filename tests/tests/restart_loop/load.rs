//! The load: clients sending every route in a loop, each answer checked against the failure
//! policy of the layers it went through, and every write a 2xx promised read back (at once,
//! and again in later rounds), telling a lost write from one Redis forgot by being killed
//! (`epoch` counts the kills).

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
    /// Writes a kill took with it (Redis here keeps nothing on disk): payments run again on
    /// retry, sessions gone. Measured, not a failure.
    pub(crate) lost_to_kills: u64,
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

    /// Runs client `client` until `deadline`: each round a ping, a payment and a login, each
    /// write read back at once, and the writes kept from earlier rounds read back again.
    pub(crate) async fn client(self, client: usize, deadline: Instant) {
        let mut kept: Vec<Written> = Vec::new();
        let mut n = 0u64;
        while Instant::now() < deadline {
            n += 1;
            if n.is_multiple_of(100) {
                // Fresh ones now and then, so every part of the keyspace sees kills.
                kept.clear();
            }
            self.send(client, get("/ping")).await;
            let written = [
                self.pay(client, &format!("c{client}-{n}")).await,
                self.login(client, &format!("u{client}-{n}")).await,
            ];
            for w in written.into_iter().flatten() {
                if self.read_back(client, &w).await && !kept.iter().any(|k| k.same_kind(&w)) {
                    kept.push(w);
                }
            }
            let mut still = Vec::new();
            for w in kept {
                if self.read_back(client, &w).await {
                    still.push(w);
                }
            }
            kept = still;
            // A little room between rounds, so a client answered from the deny cache does
            // not starve the others of the two cores.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// A payment; what it wrote if it ran and was stored.
    async fn pay(&self, client: usize, key: &str) -> Option<Written> {
        let epoch = self.epoch.load(Ordering::SeqCst);
        let first = self.send(client, pay(key)).await?;
        let stored = first.status == StatusCode::CREATED
            && first.header("idempotent-replayed").is_empty()
            && first.header("idempotency-status") != "not-stored";
        stored.then(|| Written::Payment {
            key: key.to_owned(),
            body: first.body,
            epoch,
        })
    }

    /// A login; the session it wrote if it answered 200.
    async fn login(&self, client: usize, user: &str) -> Option<Written> {
        let epoch = self.epoch.load(Ordering::SeqCst);
        let login = Request::post("/login")
            .header("x-user", user)
            .body(String::new())
            .expect("a request");
        let first = self.send(client, login).await?;
        if first.status != StatusCode::OK {
            return None;
        }
        let Some(token) = token(&first.headers) else {
            self.violation(format!("POST /login {user}: 200 without a cookie"));
            return None;
        };
        Some(Written::Session {
            token,
            user: user.to_owned(),
            epoch,
        })
    }

    /// Reads `written` back: a payment's retry is replayed (never run again), a session
    /// still knows its user. Unless Redis was killed since the write, a write that is gone is
    /// a violation. False once it is gone (the caller stops reading it).
    async fn read_back(&self, client: usize, written: &Written) -> bool {
        let (gone, what) = match written {
            Written::Payment { key, body, .. } => {
                let Some(retry) = self.send(client, pay(key)).await else {
                    return true;
                };
                if retry.status != StatusCode::CREATED {
                    return true;
                }
                if retry.header("idempotent-replayed") == "true" && retry.body != *body {
                    // No one else uses the key: another answer is never replayed, kill or not.
                    self.violation(format!(
                        "POST /pay {key}: replayed {:?}, not {body:?}",
                        retry.body()
                    ));
                    return false;
                }
                let ran_again = retry.header("idempotent-replayed") != "true";
                (
                    ran_again,
                    format!("POST /pay {key}: ran again ({:?})", retry.body()),
                )
            }
            Written::Session { token, user, .. } => {
                let whoami = Request::get("/whoami")
                    .header(header::COOKIE, format!("{COOKIE}={token}"))
                    .body(String::new())
                    .expect("a request");
                let Some(me) = self.send(client, whoami).await else {
                    return true;
                };
                let gone = me.status == StatusCode::OK && me.body() != *user;
                (
                    gone,
                    format!("POST /login {user}: the session reads {:?}", me.body()),
                )
            }
        };
        if !gone {
            return true;
        }
        if self.epoch.load(Ordering::SeqCst) == written.epoch() {
            self.violation(format!("{what}, without a kill since the write"));
        } else {
            self.tally.lock().lost_to_kills += 1;
        }
        false
    }

    fn violation(&self, what: String) {
        self.tally.lock().violations.push(what);
    }
}

/// A write a 2xx promised: an idempotent payment's stored answer, or a session. `epoch`: the
/// kill count before it was sent.
enum Written {
    Payment {
        key: String,
        body: Bytes,
        epoch: u64,
    },
    Session {
        token: String,
        user: String,
        epoch: u64,
    },
}

impl Written {
    fn epoch(&self) -> u64 {
        match self {
            Self::Payment { epoch, .. } | Self::Session { epoch, .. } => *epoch,
        }
    }

    fn same_kind(&self, other: &Self) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
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
