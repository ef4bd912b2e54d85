//! [`CrossSiteLayer`]: the layer, and the settings its services share. Its builder is in
//! `builder.rs`.

use std::sync::Arc;

use http::{HeaderMap, HeaderName, Method};
use tower_layer::Layer;

use super::builder::CrossSiteLayerBuilder;
use super::rejection::CrossSiteRejectionKind;
use super::response::Responder;
use super::service::CrossSite;

/// The checked settings of a [`CrossSiteLayer`].
#[derive(Debug)]
pub(crate) struct Config {
    /// Normalised `scheme://host[:port]`.
    pub(crate) trusted_origins: Vec<String>,
    pub(crate) allow_same_site: bool,
    pub(crate) require_token: bool,
    pub(crate) header: HeaderName,
    pub(crate) form_field: String,
    pub(crate) body_limit: usize,
}

/// What the headers say about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Allow,
    Refuse(CrossSiteRejectionKind),
    /// The session's token must be presented.
    Token,
}

/// `Sec-Fetch-Site`, which browsers set on every request (Fetch Metadata).
static SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// True for the methods that must not change state (RFC 9110 §9.2.1).
pub(crate) fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

impl Config {
    /// The decision the headers allow, before any token is looked at.
    pub(crate) fn decide(&self, method: &Method, headers: &HeaderMap) -> Verdict {
        use CrossSiteRejectionKind as K;
        if is_safe(method) {
            return Verdict::Allow;
        }
        let mut sites = headers.get_all(&SEC_FETCH_SITE).iter();
        let vouched = match (sites.next(), sites.next()) {
            (Some(_), Some(_)) => return Verdict::Refuse(K::UnknownFetchSite),
            (Some(site), None) => match site.as_bytes() {
                b"same-origin" | b"none" => true,
                b"same-site" if self.allow_same_site => true,
                b"same-site" => return Verdict::Refuse(K::SameSiteNotAllowed),
                b"cross-site" => return Verdict::Refuse(K::CrossSite),
                _ => return Verdict::Refuse(K::UnknownFetchSite),
            },
            (None, _) => {
                let mut origins = headers.get_all(http::header::ORIGIN).iter();
                match (origins.next(), origins.next()) {
                    (Some(origin), None) => {
                        let trusted = origin
                            .to_str()
                            .ok()
                            .and_then(super::origin::normalise)
                            .is_some_and(|o| self.trusted_origins.contains(&o));
                        if !trusted {
                            return Verdict::Refuse(K::UntrustedOrigin);
                        }
                        true
                    }
                    (Some(_), Some(_)) => return Verdict::Refuse(K::UntrustedOrigin),
                    (None, _) => false,
                }
            }
        };
        if vouched && !self.require_token {
            Verdict::Allow
        } else {
            Verdict::Token
        }
    }
}

/// Refuses state-changing requests (every method but `GET`, `HEAD`, `OPTIONS`, `TRACE`) that
/// another site may have made. Cheap to clone. See the [module docs](super) for the decision
/// order and how to stack it inside a [`SessionManagerLayer`](crate::SessionManagerLayer).
///
/// Defaults ([`new`](Self::new)): `Sec-Fetch-Site: same-origin` or `none` passes,
/// `same-site` and `cross-site` are refused; without that header no `Origin` is trusted; without
/// either header the session's token is required in `x-csrf-token` or the form field
/// `csrf_token` of an `application/x-www-form-urlencoded` body read up to 64 KiB.
#[derive(Debug, Clone)]
#[must_use]
pub struct CrossSiteLayer {
    config: Arc<Config>,
    responder: Responder,
}

impl CrossSiteLayer {
    /// A layer with the safe defaults.
    pub fn new() -> Self {
        Self::builder()
            .build()
            .expect("the default settings are valid")
    }

    /// A builder starting from the defaults.
    pub fn builder() -> CrossSiteLayerBuilder {
        CrossSiteLayerBuilder::new()
    }

    pub(super) fn from_parts(config: Config, responder: Responder) -> Self {
        crate::metrics::describe();
        Self {
            config: Arc::new(config),
            responder,
        }
    }
}

impl Default for CrossSiteLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Layer<S> for CrossSiteLayer {
    type Service = CrossSite<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CrossSite::new(inner, self.config.clone(), self.responder.clone())
    }
}
