//! [`ResponseForApiKey`]: how rejections become responses; [`DefaultRejectionResponse`] answers
//! with problem+json (or a gRPC status for gRPC requests) and `WWW-Authenticate`.

use std::sync::Arc;

use http::{HeaderMap, HeaderValue, Response, header};
use tower_vigil_core::ConfigError;
use tower_vigil_core::http::{GrpcCode, Problem, ResponseBody, grpc_response, is_grpc};

use crate::{Rejection, RejectionKind};

/// Builds the response for a [`Rejection`]. Implemented by [`DefaultRejectionResponse`] and by
/// any `Fn(&Rejection, &HeaderMap) -> Response<ResponseBody<B>>` closure (the `HeaderMap` is
/// the request's). The layer adds the rejection to the response's extensions itself.
pub trait ResponseForApiKey<B>: Clone + Send + Sync + 'static {
    /// The response for `rejection` of a request with `request_headers`.
    fn response(
        &self,
        rejection: &Rejection,
        request_headers: &HeaderMap,
    ) -> Response<ResponseBody<B>>;
}

impl<B, F> ResponseForApiKey<B> for F
where
    F: Fn(&Rejection, &HeaderMap) -> Response<ResponseBody<B>> + Clone + Send + Sync + 'static,
{
    fn response(
        &self,
        rejection: &Rejection,
        request_headers: &HeaderMap,
    ) -> Response<ResponseBody<B>> {
        self(rejection, request_headers)
    }
}

/// 401/403/503 as `application/problem+json` with a `reason` member, `WWW-Authenticate`
/// challenges (`Bearer realm="api"` with an RFC 6750 error code, and `ApiKey realm="api"`);
/// `UNAUTHENTICATED`, `PERMISSION_DENIED` or `UNAVAILABLE` for gRPC requests.
#[derive(Debug, Clone)]
pub struct DefaultRejectionResponse {
    realm: Arc<str>,
}

impl DefaultRejectionResponse {
    /// Challenges naming `realm` (printable ASCII without `"` or `\`, at most 64 bytes).
    pub fn new(realm: &str) -> Result<Self, ConfigError> {
        if realm.is_empty()
            || realm.len() > 64
            || !realm
                .bytes()
                .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
        {
            return Err(ConfigError::new(
                "realm",
                "must be 1 to 64 printable ASCII characters without quotes or backslashes",
            ));
        }
        Ok(Self {
            realm: realm.into(),
        })
    }

    fn challenges(&self, rejection: &Rejection) -> Vec<String> {
        let realm = &self.realm;
        let bearer = match rejection.kind() {
            RejectionKind::Missing => format!("Bearer realm=\"{realm}\""),
            RejectionKind::MissingPermission => format!(
                "Bearer realm=\"{realm}\", error=\"insufficient_scope\", scope=\"{}\"",
                rejection.permission().unwrap_or_default()
            ),
            RejectionKind::Malformed => {
                format!("Bearer realm=\"{realm}\", error=\"invalid_request\"")
            }
            _ => format!("Bearer realm=\"{realm}\", error=\"invalid_token\""),
        };
        vec![bearer, format!("ApiKey realm=\"{realm}\"")]
    }
}

impl Default for DefaultRejectionResponse {
    fn default() -> Self {
        Self {
            realm: "api".into(),
        }
    }
}

impl<B> ResponseForApiKey<B> for DefaultRejectionResponse {
    fn response(
        &self,
        rejection: &Rejection,
        request_headers: &HeaderMap,
    ) -> Response<ResponseBody<B>> {
        if is_grpc(request_headers) {
            let code = match rejection.kind() {
                RejectionKind::MissingPermission => GrpcCode::PermissionDenied,
                RejectionKind::Unavailable => GrpcCode::Unavailable,
                _ => GrpcCode::Unauthenticated,
            };
            return grpc_response(code, rejection.detail());
        }
        let mut problem = Problem::new(rejection.status())
            .detail(rejection.detail())
            .extension("reason", rejection.kind().as_str());
        if let Some(p) = rejection.permission() {
            problem = problem.extension("permission", p);
        }
        let mut res = problem.into_response();
        let headers = res.headers_mut();
        match rejection.kind() {
            RejectionKind::Unavailable => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {
                for c in self.challenges(rejection) {
                    // Built from checked ASCII: always a valid header value.
                    if let Ok(v) = HeaderValue::from_str(&c) {
                        headers.append(header::WWW_AUTHENTICATE, v);
                    }
                }
            }
        }
        res
    }
}
