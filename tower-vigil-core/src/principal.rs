//! [`Principal`]: who the caller is.
//!
//! The API-key and session layers put a `Principal` into the request's extensions; rate
//! limiting keys on it and idempotency scopes its records by it, so stacking the layers needs no
//! glue code.
//!
//! ```
//! use tower_vigil_core::Principal;
//!
//! let p = Principal::api_key("k-demo").with_user("u-alice").with_organization("org-acme");
//! assert_eq!(p.scope(), "apikey:k-demo");
//! assert_eq!(p.user_id(), Some("u-alice"));
//!
//! let mut req = http::Request::new(());
//! req.extensions_mut().insert(p.clone());
//! assert_eq!(Principal::from_extensions(req.extensions()), Some(&p));
//! ```

use std::fmt;
use std::sync::Arc;

use crate::keys::escape;

/// How a caller proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PrincipalKind {
    /// An API key; the id is the key's id (never the key itself).
    ApiKey,
    /// A logged-in user with a session; the id is the user id.
    User,
    /// Anything else an application authenticates (mTLS client, service account, ...).
    Service,
}

impl PrincipalKind {
    /// `apikey`, `user` or `service`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiKey => "apikey",
            Self::User => "user",
            Self::Service => "service",
        }
    }
}

/// The caller's identity. Cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Principal {
    kind: PrincipalKind,
    id: Arc<str>,
    user_id: Option<Arc<str>>,
    organization_id: Option<Arc<str>>,
}

impl Principal {
    /// A principal of `kind` identified by `id`.
    pub fn new(kind: PrincipalKind, id: impl AsRef<str>) -> Self {
        Self {
            kind,
            id: id.as_ref().into(),
            user_id: None,
            organization_id: None,
        }
    }

    /// A caller authenticated by the API key with id `key_id`.
    pub fn api_key(key_id: impl AsRef<str>) -> Self {
        Self::new(PrincipalKind::ApiKey, key_id)
    }

    /// A logged-in user; the user id is also the principal's id.
    pub fn user(user_id: impl AsRef<str>) -> Self {
        let id: Arc<str> = user_id.as_ref().into();
        Self {
            kind: PrincipalKind::User,
            user_id: Some(id.clone()),
            id,
            organization_id: None,
        }
    }

    /// Records the user this principal acts for.
    #[must_use]
    pub fn with_user(mut self, user_id: impl AsRef<str>) -> Self {
        self.user_id = Some(user_id.as_ref().into());
        self
    }

    /// Records the organization this principal belongs to.
    #[must_use]
    pub fn with_organization(mut self, organization_id: impl AsRef<str>) -> Self {
        self.organization_id = Some(organization_id.as_ref().into());
        self
    }

    /// How the caller authenticated.
    pub fn kind(&self) -> PrincipalKind {
        self.kind
    }

    /// The principal's id (an API key's id, a user id, ...).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The user this principal acts for, if known.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// The organization, if known.
    pub fn organization_id(&self) -> Option<&str> {
        self.organization_id.as_deref()
    }

    /// `{kind}:{escaped id}`: a key part that identifies this principal and cannot collide
    /// with another kind's or reach into another key part.
    pub fn scope(&self) -> String {
        format!("{}:{}", self.kind.as_str(), escape(&self.id))
    }

    /// The principal in `extensions`, if an authentication layer put one there.
    pub fn from_extensions(extensions: &http::Extensions) -> Option<&Self> {
        extensions.get::<Self>()
    }
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("kind", &self.kind)
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("organization_id", &self.organization_id)
            .finish()
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.id)
    }
}
