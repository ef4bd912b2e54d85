//! [`MissingKey`]: what the layer does with a request whose key cannot be extracted.

/// What the layer does with a request whose key cannot be extracted (the
/// [`KeyExtractor`](crate::key::KeyExtractor) returned `None`). Counted in
/// [`MISSING_KEY_TOTAL`](crate::metrics::MISSING_KEY_TOTAL) with label `action`.
///
/// The default is `Reject` (400 problem+json): a limiter that silently stops limiting when,
/// say, the server was not set up to record peer addresses or the API-key layer is not in
/// front of it, is worse than one that fails loudly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MissingKey {
    /// Answer 400 problem+json (gRPC: `INVALID_ARGUMENT`).
    #[default]
    Reject,
    /// Serve the request unmetered.
    Allow,
    /// Count every request without a key against one shared key, `missing_key`.
    Shared,
}

impl MissingKey {
    /// `reject`, `allow` or `shared`: the `action` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reject => "reject",
            Self::Allow => "allow",
            Self::Shared => "shared",
        }
    }
}

/// The key [`MissingKey::Shared`] counts requests without a key against.
pub(crate) const SHARED_KEY: &str = "missing_key";
