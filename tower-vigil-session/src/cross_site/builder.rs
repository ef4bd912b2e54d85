//! [`CrossSiteLayerBuilder`]: every setting of a [`CrossSiteLayer`], checked at
//! [`build`](CrossSiteLayerBuilder::build).

use http::HeaderName;
use tower_vigil_core::{ConfigError, DefaultResponse, RejectionResponse};

use super::layer::{Config, CrossSiteLayer};
use super::origin::normalise;
use super::rejection::CrossSiteRejection;
use super::response::Responder;

/// The default token header.
pub const DEFAULT_TOKEN_HEADER: &str = "x-csrf-token";
/// The default token form field.
pub const DEFAULT_FORM_FIELD: &str = "csrf_token";
/// The default largest form body read for its token: 64 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
/// The largest [`body_limit`](CrossSiteLayerBuilder::body_limit) accepted: 16 MiB.
pub const MAX_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Builds a [`CrossSiteLayer`]. Every setter only records its value, so they can be called in
/// any order; [`build`](Self::build) checks them all.
///
/// ```
/// use tower_vigil_session::CrossSiteLayer;
///
/// let layer = CrossSiteLayer::builder()
///     .trusted_origins(["https://app.example.com", "https://admin.example.com:8443"])
///     .header("x-xsrf-token")
///     .build()?;
/// # let _ = layer;
/// // A bad value is refused at build time, naming the setting.
/// let err = CrossSiteLayer::builder().trusted_origins(["https://example.com/app"]).build().unwrap_err();
/// assert_eq!(err.field(), "trusted_origins");
/// # Ok::<(), tower_vigil_core::ConfigError>(())
/// ```
#[must_use]
pub struct CrossSiteLayerBuilder {
    trusted_origins: Vec<String>,
    allow_same_site: bool,
    require_token: bool,
    header: String,
    form_field: String,
    body_limit: usize,
    responder: Responder,
}

impl CrossSiteLayerBuilder {
    pub(super) fn new() -> Self {
        Self {
            trusted_origins: Vec::new(),
            allow_same_site: false,
            require_token: false,
            header: DEFAULT_TOKEN_HEADER.to_owned(),
            form_field: DEFAULT_FORM_FIELD.to_owned(),
            body_limit: DEFAULT_BODY_LIMIT,
            responder: Responder::new(DefaultResponse),
        }
    }

    /// The origins whose requests pass when a browser sends `Origin` but no `Sec-Fetch-Site`
    /// (default none), each exactly `scheme://host[:port]` with `http` or `https` (no path,
    /// not even `/`). Compared exactly after normalising both sides (lowercase, default port
    /// dropped). List your own origin here too: browsers without Fetch Metadata send only
    /// `Origin`. Refused at build time: anything that is not such an origin, `null` included.
    /// Replaces the list set before.
    pub fn trusted_origins<I, O>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = O>,
        O: Into<String>,
    {
        self.trusted_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// Let `Sec-Fetch-Site: same-site` through (default `false`): requests from other origins
    /// of the same site (sibling subdomains, other ports or schemes of the same registrable
    /// domain). Unsafe when any of those can be controlled by someone else.
    pub fn allow_same_site(mut self, allow: bool) -> Self {
        self.allow_same_site = allow;
        self
    }

    /// Demand the session's token on every state-changing request, even when the headers say
    /// same-origin or a trusted origin (default `false`): defence in depth.
    pub fn require_token(mut self, require: bool) -> Self {
        self.require_token = require;
        self
    }

    /// The header the token is read from (default `x-csrf-token`). Checked at build time.
    pub fn header(mut self, name: impl Into<String>) -> Self {
        self.header = name.into();
        self
    }

    /// The form field of an `application/x-www-form-urlencoded` body the token is read from
    /// when the header is absent (default `csrf_token`; non-empty, at most 128 bytes).
    pub fn form_field(mut self, name: impl Into<String>) -> Self {
        self.form_field = name.into();
        self
    }

    /// The largest form body read to find the token (default 64 KiB, at least 1 byte, at most
    /// 16 MiB). A larger one is refused with `413`
    /// ([`BodyTooLarge`](crate::CrossSiteRejectionKind::BodyTooLarge)); a read body is handed
    /// on to the inner service whole.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// How a [`CrossSiteRejection`] becomes the response (default [`DefaultResponse`]:
    /// problem+json, or a gRPC status for gRPC calls). Any
    /// `Fn(&CrossSiteRejection) -> Response<Bytes>` works. The rejection is put in the
    /// response's extensions whatever builds it.
    pub fn response(mut self, response: impl RejectionResponse<CrossSiteRejection>) -> Self {
        self.responder = Responder::new(response);
        self
    }

    /// The layer, once every setting checked.
    pub fn build(self) -> Result<CrossSiteLayer, ConfigError> {
        let trusted_origins = self
            .trusted_origins
            .iter()
            .map(|o| {
                if o.trim().eq_ignore_ascii_case("null") {
                    return Err(ConfigError::new(
                        "trusted_origins",
                        "`null` is the origin of sandboxed and privacy-sensitive contexts, any site can send it: it cannot be trusted",
                    ));
                }
                normalise(o).ok_or_else(|| {
                    ConfigError::new(
                        "trusted_origins",
                        format!("{o:?} is not an origin: expected http(s)://host[:port], with no path"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let header = HeaderName::from_bytes(self.header.as_bytes()).map_err(|_| {
            ConfigError::new("header", format!("{:?} is not a header name", self.header))
        })?;
        if self.form_field.is_empty() || self.form_field.len() > 128 {
            return Err(ConfigError::new(
                "form_field",
                "must be between 1 and 128 bytes",
            ));
        }
        if self.body_limit == 0 || self.body_limit > MAX_BODY_LIMIT {
            return Err(ConfigError::new(
                "body_limit",
                format!("must be between 1 and {MAX_BODY_LIMIT} bytes"),
            ));
        }
        Ok(CrossSiteLayer::from_parts(
            Config {
                trusted_origins,
                allow_same_site: self.allow_same_site,
                require_token: self.require_token,
                header,
                form_field: self.form_field,
                body_limit: self.body_limit,
            },
            self.responder,
        ))
    }
}

impl std::fmt::Debug for CrossSiteLayerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrossSiteLayerBuilder")
            .field("trusted_origins", &self.trusted_origins)
            .field("allow_same_site", &self.allow_same_site)
            .field("require_token", &self.require_token)
            .field("header", &self.header)
            .field("form_field", &self.form_field)
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}
