//! [`RequirePermission`]: the permission-check service.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;
use tower_vigil_core::http::{ResponseBody, is_grpc};

use super::future::RequireFuture;
use crate::rejection::{Realm, Responder};
use crate::{ApiKeyRejection, ApiKeyRejectionKind, Permissions};

/// Checks the request's [`Permissions`]; built by
/// [`RequirePermissionLayer`](crate::RequirePermissionLayer). A key without the permission is
/// an [`ApiKeyRejection`] of kind `MissingPermission` (403); a request that no
/// [`ApiKeyLayer`](crate::ApiKeyLayer) authenticated is one of kind `Missing` (401).
#[derive(Debug, Clone)]
pub struct RequirePermission<S> {
    inner: S,
    permission: Arc<str>,
    response: Responder,
}

impl<S> RequirePermission<S> {
    pub(crate) fn new(inner: S, permission: Arc<str>, response: Responder) -> Self {
        Self {
            inner,
            permission,
            response,
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, consuming the middleware.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequirePermission<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = RequireFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let ext = req.extensions();
        let kind = match ext.get::<Permissions>() {
            Some(p) if p.contains(&self.permission) => None,
            Some(_) => Some(ApiKeyRejectionKind::MissingPermission),
            None => Some(ApiKeyRejectionKind::Missing),
        };
        if let Some(kind) = kind {
            // The realm of the ApiKeyLayer that authenticated the request, if one did.
            let realm = ext.get::<Realm>().cloned().unwrap_or_default();
            let mut rejection = ApiKeyRejection::new(kind, &realm, is_grpc(req.headers()));
            if kind == ApiKeyRejectionKind::MissingPermission {
                rejection = rejection.with_permission(Arc::clone(&self.permission));
            }
            return RequireFuture::rejected(self.response.respond(rejection));
        }
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        RequireFuture::inner(inner.call(req))
    }
}
