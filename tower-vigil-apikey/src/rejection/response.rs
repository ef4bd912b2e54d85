//! [`ApiKeyRejection`]'s side of core's [`Rejection`] contract, and its default response:
//! core's problem+json (or gRPC status) plus `WWW-Authenticate` challenges (RFC 6750 for
//! `Bearer`, and an `ApiKey` challenge) naming the layer's realm.

use std::borrow::Cow;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use tower_vigil_core::Rejection;
use tower_vigil_core::http::{GrpcCode, Problem, grpc_response, retry_after_secs};

use super::{ApiKeyRejection, ApiKeyRejectionKind};

/// How long a caller turned away because keys cannot be checked should wait: the backend is
/// skipped for a second after it fails, and a failed store lookup is shared for as long.
const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(1);

impl ApiKeyRejection {
    /// The `WWW-Authenticate` challenges the default response carries (none for a 503 or a
    /// gRPC request): `Bearer realm="…"` with an RFC 6750 error code (`invalid_request`,
    /// `invalid_token`, or `insufficient_scope` with the missing permission as `scope`), then
    /// `ApiKey realm="…"`. For a custom response that keeps them.
    pub fn challenges(&self) -> Vec<HeaderValue> {
        let realm = self.realm();
        let bearer = match self.kind() {
            ApiKeyRejectionKind::Unavailable => return Vec::new(),
            ApiKeyRejectionKind::Missing => format!("Bearer realm=\"{realm}\""),
            ApiKeyRejectionKind::MissingPermission => format!(
                "Bearer realm=\"{realm}\", error=\"insufficient_scope\", scope=\"{}\"",
                self.permission().unwrap_or_default()
            ),
            ApiKeyRejectionKind::Malformed => {
                format!("Bearer realm=\"{realm}\", error=\"invalid_request\"")
            }
            _ => format!("Bearer realm=\"{realm}\", error=\"invalid_token\""),
        };
        [bearer, format!("ApiKey realm=\"{realm}\"")]
            .into_iter()
            // Realm and permission are checked printable ASCII: always a valid header value.
            .filter_map(|c| HeaderValue::from_str(&c).ok())
            .collect()
    }
}

impl Rejection for ApiKeyRejection {
    /// [`ApiKeyRejectionKind::as_str`].
    fn reason(&self) -> &'static str {
        self.kind().as_str()
    }

    /// 401; 403 for a missing permission; 503 when keys cannot be checked.
    fn status(&self) -> StatusCode {
        match self.kind() {
            ApiKeyRejectionKind::MissingPermission => StatusCode::FORBIDDEN,
            ApiKeyRejectionKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// `UNAUTHENTICATED`; `PERMISSION_DENIED` for a missing permission; `UNAVAILABLE` when keys
    /// cannot be checked.
    fn grpc_code(&self) -> GrpcCode {
        match self.kind() {
            ApiKeyRejectionKind::MissingPermission => GrpcCode::PermissionDenied,
            ApiKeyRejectionKind::Unavailable => GrpcCode::Unavailable,
            _ => GrpcCode::Unauthenticated,
        }
    }

    /// One second when keys cannot be checked; none otherwise (the same key will not do
    /// better later).
    fn retry_after(&self) -> Option<Duration> {
        (self.kind() == ApiKeyRejectionKind::Unavailable).then_some(UNAVAILABLE_RETRY_AFTER)
    }

    fn detail(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.detail)
    }

    fn is_grpc(&self) -> bool {
        self.grpc
    }

    /// A `permission` member for a missing permission.
    fn extend_problem(&self, problem: Problem) -> Problem {
        match self.permission() {
            Some(p) => problem.extension("permission", p),
            None => problem,
        }
    }

    /// Core's default response (problem+json with `Retry-After` when known, or a gRPC status
    /// with `grpc-retry-pushback-ms`) plus the [`challenges`](ApiKeyRejection::challenges) in
    /// `WWW-Authenticate` for an HTTP request.
    fn default_response(&self) -> Response<Bytes> {
        if self.is_grpc() {
            let mut res =
                grpc_response::<()>(self.grpc_code(), &self.detail()).map(|_| Bytes::new());
            if let Some(after) = self.retry_after() {
                let ms = u64::try_from(after.as_millis()).unwrap_or(u64::MAX).max(1);
                res.headers_mut()
                    .insert("grpc-retry-pushback-ms", HeaderValue::from(ms));
            }
            return res;
        }
        let mut res = self.problem().to_response();
        let headers = res.headers_mut();
        if let Some(after) = self.retry_after() {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after_secs(after)),
            );
        }
        for c in self.challenges() {
            headers.append(header::WWW_AUTHENTICATE, c);
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use tower_vigil_core::{DefaultResponse, RejectionResponse};

    use super::*;
    use crate::rejection::Realm;

    fn rejection(kind: ApiKeyRejectionKind, grpc: bool) -> ApiKeyRejection {
        ApiKeyRejection::new(kind, &Realm::new("vigil").unwrap(), grpc)
    }

    #[test]
    fn http_rejections_are_problems_with_challenges() {
        let res = DefaultResponse.response(&rejection(ApiKeyRejectionKind::UnknownKey, false));
        assert_eq!(res.status(), 401);
        let challenges: Vec<_> = res
            .headers()
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .collect();
        assert_eq!(
            challenges,
            [
                "Bearer realm=\"vigil\", error=\"invalid_token\"",
                "ApiKey realm=\"vigil\""
            ]
        );
        assert!(res.headers().get(header::RETRY_AFTER).is_none());
        let body: serde_json::Value = serde_json::from_slice(res.body()).unwrap();
        assert_eq!(body["reason"], "unknown_key");
        assert_eq!(body["title"], "Unauthorized");
    }

    #[test]
    fn unavailable_is_503_with_retry_after_and_no_challenge() {
        let res = DefaultResponse.response(&rejection(ApiKeyRejectionKind::Unavailable, false));
        assert_eq!(res.status(), 503);
        assert_eq!(res.headers()[header::RETRY_AFTER], "1");
        assert!(res.headers().get(header::WWW_AUTHENTICATE).is_none());
        let body: serde_json::Value = serde_json::from_slice(res.body()).unwrap();
        assert_eq!(body["retryAfter"], 1);
    }

    #[test]
    fn grpc_rejections_are_statuses_without_challenges() {
        for (kind, code, pushback) in [
            (ApiKeyRejectionKind::Missing, "16", None),
            (ApiKeyRejectionKind::MissingPermission, "7", None),
            (ApiKeyRejectionKind::Unavailable, "14", Some("1000")),
        ] {
            let res = DefaultResponse.response(&rejection(kind, true));
            assert_eq!(res.headers()["grpc-status"], code, "{kind:?}");
            assert!(res.headers().get(header::WWW_AUTHENTICATE).is_none());
            assert_eq!(
                res.headers()
                    .get("grpc-retry-pushback-ms")
                    .map(|v| v.to_str().unwrap()),
                pushback
            );
        }
    }
}
