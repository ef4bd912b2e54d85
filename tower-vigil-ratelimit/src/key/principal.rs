//! [`PrincipalKey`]: the caller an authentication layer put in the extensions.

use tower_vigil_core::Principal;

use super::extractor::{KeyExtractor, RequestHead};

/// The [`Principal`] an authentication layer (API key, session) put in the extensions:
/// `p:<kind>:<id>`, so each API key or user has its own quota.
#[derive(Debug, Clone, Copy, Default)]
pub struct PrincipalKey {
    organization: bool,
}

impl PrincipalKey {
    /// Keys on the principal itself.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keys on the principal's organization when it has one (one quota per organization),
    /// else on the principal.
    #[must_use]
    pub fn by_organization(mut self) -> Self {
        self.organization = true;
        self
    }
}

impl KeyExtractor for PrincipalKey {
    fn extract(&self, req: &RequestHead<'_>) -> Option<String> {
        let p = Principal::from_extensions(req.extensions())?;
        if self.organization
            && let Some(org) = p.organization_id()
        {
            return Some(format!("org:{org}"));
        }
        Some(format!("p:{}", p.scope()))
    }
}
