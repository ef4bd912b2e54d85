//! [`RequirePermission`]: the permission-check service.

use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;
use tower_vigil_core::http::ResponseBody;

use super::{RequireFuture, RequirePermissionLayer};
use crate::{Permissions, Rejection, RejectionKind, ResponseForApiKey};

/// Checks the request's [`Permissions`]; built by [`RequirePermissionLayer`].
#[derive(Debug, Clone)]
pub struct RequirePermission<S, R> {
    pub(crate) inner: S,
    pub(crate) layer: RequirePermissionLayer<R>,
}

impl<S, R, ReqBody, ResBody> Service<Request<ReqBody>> for RequirePermission<S, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    R: ResponseForApiKey<ResBody>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = RequireFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let rejection = match req.extensions().get::<Permissions>() {
            Some(p) if p.contains(&self.layer.permission) => None,
            Some(_) => Some(Rejection::missing_permission(&*self.layer.permission)),
            None => Some(Rejection::new(
                RejectionKind::Missing,
                "an API key is required",
            )),
        };
        if let Some(rejection) = rejection {
            let mut res = self.layer.response.response(&rejection, req.headers());
            res.extensions_mut().insert(rejection);
            return RequireFuture::rejected(res);
        }
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        RequireFuture::inner(inner.call(req))
    }
}
