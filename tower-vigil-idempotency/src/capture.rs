//! Capturing a response for storage: what is kept of it (headers, body up to the limit,
//! trailers), what counts as a server failure, and the mark on a response left unstored.

use std::pin::Pin;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, header};
use http_body::Body;
use http_body_util::BodyExt;

use crate::body::IdempotencyBody;

/// `Idempotency-Status: not-stored` marks a response that ran but left no record under its
/// key (a `5xx` with [`ServerErrors::Release`](crate::ServerErrors::Release), a failed store
/// write, a lost lease), so a retry with the key runs again. On a body forwarded while it
/// streams, the head has gone out before that is known: the mark then goes into the body's
/// trailers, when it has some.
pub static IDEMPOTENCY_STATUS: HeaderName = HeaderName::from_static("idempotency-status");

/// A response body read up to the capture limit.
pub(crate) enum Captured<B: Body> {
    /// The whole body (and its trailers) fit.
    Complete {
        data: Bytes,
        trailers: Option<HeaderMap>,
    },
    /// The body is larger than the limit: what was read, and the rest.
    Partial { data: Bytes, rest: Pin<Box<B>> },
    /// Reading the body failed after `data`.
    Failed { data: Bytes, error: B::Error },
}

impl<B: Body<Data = Bytes>> Captured<B> {
    pub(crate) fn into_body(self) -> IdempotencyBody<B> {
        match self {
            Self::Complete { data, trailers } => IdempotencyBody::complete(data, trailers),
            Self::Partial { data, rest } => IdempotencyBody::partial(data, rest),
            Self::Failed { data, error } => IdempotencyBody::failed(data, error),
        }
    }
}

/// Reads `body` until it ends or grows past `limit` bytes. A body whose size hint already
/// exceeds the limit is not read at all.
pub(crate) async fn collect<B: Body<Data = Bytes>>(body: B, limit: usize) -> Captured<B> {
    let mut body = Box::pin(body);
    if body.size_hint().lower() > limit as u64 {
        return Captured::Partial {
            data: Bytes::new(),
            rest: body,
        };
    }
    let mut data = BytesMut::new();
    let mut trailers: Option<HeaderMap> = None;
    loop {
        match body.frame().await {
            None => break,
            Some(Err(error)) => {
                return Captured::Failed {
                    data: data.freeze(),
                    error,
                };
            }
            Some(Ok(frame)) => match frame.into_data() {
                Ok(chunk) => {
                    data.extend_from_slice(&chunk);
                    if data.len() > limit {
                        return Captured::Partial {
                            data: data.freeze(),
                            rest: body,
                        };
                    }
                }
                Err(frame) => {
                    if let Ok(t) = frame.into_trailers() {
                        trailers.get_or_insert_with(HeaderMap::new).extend(t);
                    }
                }
            },
        }
    }
    Captured::Complete {
        data: data.freeze(),
        trailers,
    }
}

/// gRPC statuses that say the server failed (UNKNOWN, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED,
/// ABORTED, INTERNAL, UNAVAILABLE, DATA_LOSS): like an HTTP 5xx, not stored.
const GRPC_SERVER_FAILURES: [&str; 7] = ["2", "4", "8", "10", "13", "14", "15"];

/// True when a response says the server failed: a 5xx, or a gRPC server failure. Such
/// responses are stored too unless the layer is set to release them.
pub(crate) fn server_failed(res: &http::response::Parts, trailers: Option<&HeaderMap>) -> bool {
    if res.status.is_server_error() {
        return true;
    }
    let grpc_status = trailers
        .and_then(|t| t.get("grpc-status"))
        .or_else(|| res.headers.get("grpc-status"));
    grpc_status
        .and_then(|v| v.to_str().ok())
        .is_some_and(|s| GRPC_SERVER_FAILURES.contains(&s.trim()))
}

/// The headers worth replaying: all but `Set-Cookie` (a session for someone else), `Date`,
/// `Content-Length` (recomputed) and hop-by-hop headers, including those `Connection` names.
pub(crate) fn stored_headers(headers: &HeaderMap) -> HeaderMap {
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let n = name.as_str();
        let drop = matches!(
            n,
            "set-cookie"
                | "date"
                | "content-length"
                | "connection"
                | "keep-alive"
                | "te"
                | "trailer"
                | "transfer-encoding"
                | "upgrade"
        ) || n.starts_with("proxy-")
            || named.iter().any(|c| c == n);
        if !drop {
            out.append(name.clone(), value.clone());
        }
    }
    out
}

/// Marks a response that ran but was not stored.
pub(crate) fn mark_not_stored(headers: &mut HeaderMap) {
    headers.insert(&IDEMPOTENCY_STATUS, HeaderValue::from_static("not-stored"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{Full, StreamBody};

    #[test]
    fn hop_by_hop_and_cookies_are_dropped() {
        let mut h = HeaderMap::new();
        for (n, v) in [
            ("set-cookie", "a=b"),
            ("date", "now"),
            ("content-length", "3"),
            ("connection", "x-private"),
            ("x-private", "1"),
            ("proxy-authenticate", "Basic"),
            ("transfer-encoding", "chunked"),
            ("content-type", "text/plain"),
            ("location", "/orders/1"),
        ] {
            h.append(HeaderName::from_static(n), HeaderValue::from_static(v));
        }
        let kept = stored_headers(&h);
        let names: Vec<&str> = kept.keys().map(HeaderName::as_str).collect();
        assert_eq!(names, ["content-type", "location"]);
    }

    #[tokio::test]
    async fn collect_stops_at_the_limit() {
        match collect(Full::new(Bytes::from_static(b"12345")), 5).await {
            Captured::Complete { data, .. } => assert_eq!(data, "12345"),
            _ => panic!("a body at the limit is captured"),
        }
        assert!(matches!(
            collect(Full::new(Bytes::from_static(b"123456")), 5).await,
            Captured::Partial { .. }
        ));
        let chunks = futures_util::stream::iter([&b"123"[..], b"456", b"789"].map(|c| {
            Ok::<_, std::convert::Infallible>(http_body::Frame::data(Bytes::from_static(c)))
        }));
        match collect(StreamBody::new(chunks), 4).await {
            Captured::Partial { data, rest } => {
                assert_eq!(data, "123456");
                let tail = rest.collect().await.unwrap().to_bytes();
                assert_eq!(tail, "789");
            }
            _ => panic!("an unsized body over the limit is passed on"),
        }
    }

    #[test]
    fn server_failures_are_recognised() {
        let (mut parts, ()) = http::Response::new(()).into_parts();
        assert!(!server_failed(&parts, None));
        parts.status = http::StatusCode::BAD_GATEWAY;
        assert!(server_failed(&parts, None));
        parts.status = http::StatusCode::OK;
        let mut t = HeaderMap::new();
        t.insert("grpc-status", HeaderValue::from_static("14"));
        assert!(server_failed(&parts, Some(&t)));
        t.insert("grpc-status", HeaderValue::from_static("5"));
        assert!(!server_failed(&parts, Some(&t)));
    }
}
