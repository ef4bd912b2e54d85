//! The default response to an [`ApiKeyRejection`]: problem+json with `WWW-Authenticate`
//! challenges (RFC 6750 for `Bearer`, and an `ApiKey` challenge), `Retry-After` on 503, or a
//! gRPC status for gRPC requests; and [`ResponseForApiKey`], how a layer is told to answer
//! differently.

use http::{HeaderValue, Response, header};
use tower_vigil_core::http::{GrpcCode, Problem, ResponseBody, grpc_response};

use super::{ApiKeyRejection, ApiKeyRejectionKind};

/// Builds the response for an [`ApiKeyRejection`]. Implemented by [`DefaultRejectionResponse`]
/// and by any `Fn(&ApiKeyRejection) -> Response<ResponseBody<B>>` closure. The layer adds the
/// rejection to the response's extensions itself.
pub trait ResponseForApiKey<B>: Clone + Send + Sync + 'static {
    /// The response for `rejection`.
    fn response(&self, rejection: &ApiKeyRejection) -> Response<ResponseBody<B>>;
}

impl<B, F> ResponseForApiKey<B> for F
where
    F: Fn(&ApiKeyRejection) -> Response<ResponseBody<B>> + Clone + Send + Sync + 'static,
{
    fn response(&self, rejection: &ApiKeyRejection) -> Response<ResponseBody<B>> {
        self(rejection)
    }
}

/// Answers with [`ApiKeyRejection::default_response`].
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultRejectionResponse;

impl<B> ResponseForApiKey<B> for DefaultRejectionResponse {
    fn response(&self, rejection: &ApiKeyRejection) -> Response<ResponseBody<B>> {
        rejection.default_response()
    }
}

impl ApiKeyRejection {
    /// The `WWW-Authenticate` challenges the default response carries (none for a 503):
    /// `Bearer realm="…"` with an RFC 6750 error code (`invalid_request`, `invalid_token`, or
    /// `insufficient_scope` with the missing permission as `scope`), then `ApiKey realm="…"`.
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

    /// 401/403/503 as `application/problem+json` with `reason` (and `permission`) members and
    /// the [`challenges`](Self::challenges), `Retry-After: 1` on 503; `UNAUTHENTICATED`,
    /// `PERMISSION_DENIED` or `UNAVAILABLE` for a gRPC request.
    pub fn default_response<B>(&self) -> Response<ResponseBody<B>> {
        if self.is_grpc() {
            let code = match self.kind() {
                ApiKeyRejectionKind::MissingPermission => GrpcCode::PermissionDenied,
                ApiKeyRejectionKind::Unavailable => GrpcCode::Unavailable,
                _ => GrpcCode::Unauthenticated,
            };
            return grpc_response(code, self.detail());
        }
        let mut problem = Problem::new(self.status())
            .detail(self.detail())
            .extension("reason", self.kind().as_str());
        if let Some(p) = self.permission() {
            problem = problem.extension("permission", p);
        }
        let mut res = problem.into_response();
        let headers = res.headers_mut();
        if self.kind() == ApiKeyRejectionKind::Unavailable {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        for c in self.challenges() {
            headers.append(header::WWW_AUTHENTICATE, c);
        }
        res
    }
}
