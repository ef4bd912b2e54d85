//! [`Authenticated`]: what a successful lookup yields, and [`Permissions`], the request
//! extension permission checks read.
//!
//! ```
//! use tower_vigil_apikey::{ApiKeyData, Authenticated};
//!
//! let who = Authenticated::new(ApiKeyData::new("k-demo", "u-1").permission("analyze"));
//! assert_eq!(who.principal().id(), "k-demo");
//! assert!(who.permissions().contains("analyze"));
//! assert!(!who.permissions().contains("admin"));
//! ```

use std::fmt;
use std::sync::Arc;

use tower_vigil_core::Principal;

use crate::ApiKeyData;

/// A validated key: its data, the [`Principal`] it acts as, and its permissions. Cheap to
/// clone (shared, built once per cache fill, not per request).
pub struct Authenticated<T = ()> {
    data: Arc<ApiKeyData<T>>,
    principal: Principal,
    permissions: Permissions,
}

impl<T> Authenticated<T> {
    /// Wraps `data`.
    pub fn new(data: ApiKeyData<T>) -> Self {
        let principal = data.principal();
        let permissions = Permissions(data.permissions.iter().cloned().collect());
        Self {
            data: Arc::new(data),
            principal,
            permissions,
        }
    }

    /// The key's data (also in the request's extensions as `Arc<ApiKeyData<T>>`).
    pub fn data(&self) -> &Arc<ApiKeyData<T>> {
        &self.data
    }

    /// The principal (also in the request's extensions).
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The permissions (also in the request's extensions).
    pub fn permissions(&self) -> &Permissions {
        &self.permissions
    }
}

impl<T> Clone for Authenticated<T> {
    fn clone(&self) -> Self {
        Self {
            data: Arc::clone(&self.data),
            principal: self.principal.clone(),
            permissions: self.permissions.clone(),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Authenticated<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticated")
            .field("data", &self.data)
            .finish_non_exhaustive()
    }
}

/// The permissions of the request's API key, put into request extensions by the
/// [`ApiKeyLayer`](crate::ApiKeyLayer) and read by
/// [`RequirePermissionLayer`](crate::RequirePermissionLayer). Not generic, so a permission
/// check does not need to know your key data's extra type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permissions(Arc<[String]>);

impl Permissions {
    /// Permissions from a list.
    pub fn new<I, S>(permissions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self(permissions.into_iter().map(Into::into).collect())
    }

    /// True when `permission` is granted.
    pub fn contains(&self, permission: &str) -> bool {
        self.0.iter().any(|p| p == permission)
    }

    /// Every granted permission.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}
