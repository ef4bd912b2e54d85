//! gRPC: recognising gRPC requests and answering them with a gRPC status instead of an HTTP
//! error body.

use http::{HeaderMap, HeaderValue, Response, header};

use super::ResponseBody;

/// The gRPC status codes tower-vigil layers answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GrpcCode {
    /// 3: the request is malformed.
    InvalidArgument = 3,
    /// 6: the resource already exists (an idempotent call in flight, or completed and not replayable).
    AlreadyExists = 6,
    /// 7: the caller lacks a permission.
    PermissionDenied = 7,
    /// 8: a quota is exhausted (rate limited).
    ResourceExhausted = 8,
    /// 9: the request does not fit the system's state (idempotency key reused).
    FailedPrecondition = 9,
    /// 10: concurrency conflict.
    Aborted = 10,
    /// 13: an internal error.
    Internal = 13,
    /// 14: the service is unavailable (backend down).
    Unavailable = 14,
    /// 16: no valid credentials.
    Unauthenticated = 16,
}

/// True when the request's `content-type` is `application/grpc` or `application/grpc+…`.
pub fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            let ct = ct.trim_start();
            ct.len() >= 16
                && ct[..16].eq_ignore_ascii_case("application/grpc")
                && matches!(ct.as_bytes().get(16), None | Some(b'+' | b';'))
        })
}

/// A trailers-only gRPC response: HTTP 200 with `grpc-status` and a percent-encoded
/// `grpc-message` in the headers.
pub fn grpc_response<B>(code: GrpcCode, message: &str) -> Response<ResponseBody<B>> {
    let mut res = Response::new(ResponseBody::empty());
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    headers.insert("grpc-status", HeaderValue::from((code as i32) as u16));
    if let Ok(v) = HeaderValue::from_str(&percent_encode(message)) {
        headers.insert("grpc-message", v);
    }
    res
}

/// gRPC's percent-encoding of `grpc-message`: printable ASCII except `%` stays as is.
fn percent_encode(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for b in message.bytes() {
        if (0x20..=0x7e).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_grpc() {
        let mut h = HeaderMap::new();
        assert!(!is_grpc(&h));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/grpc"),
        );
        assert!(is_grpc(&h));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/grpc+proto"),
        );
        assert!(is_grpc(&h));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/grpcx"),
        );
        assert!(!is_grpc(&h));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        assert!(!is_grpc(&h));
    }

    #[test]
    fn grpc_status_headers() {
        let res: Response<ResponseBody<String>> =
            grpc_response(GrpcCode::ResourceExhausted, "slow down: 100%");
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["grpc-status"], "8");
        assert_eq!(res.headers()["grpc-message"], "slow down: 100%25");
    }
}
