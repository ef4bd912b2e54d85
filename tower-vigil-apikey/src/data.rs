//! [`ApiKeyData`]: what a key grants, as the [`KeyStore`](crate::KeyStore) returns it and the
//! caches keep it; and [`ValidUntil`], its expiry.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use tower_vigil_apikey::{ApiKeyData, ValidUntil};
//!
//! #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
//! struct Plan {
//!     plan: String,
//! }
//!
//! // Your own fields sit beside the standard ones (serde `flatten`).
//! let json = r#"{"id":"k-demo","user_id":"u-1","organization_id":"org-9",
//!     "permissions":["analyze"],"rate_limit":100,
//!     "valid_until":"2030-01-01T00:00:00Z","plan":"pro"}"#;
//! let data: ApiKeyData<Plan> = serde_json::from_str(json).unwrap();
//! assert!(data.has_permission("analyze"));
//! assert_eq!(data.valid_until, Some(ValidUntil::from_unix_seconds(1_893_456_000)));
//! assert_eq!(data.extra.plan, "pro");
//! ```

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use tower_vigil_core::Principal;

use crate::ValidUntil;

/// What an API key grants. `T` carries fields of your own, flattened beside the standard ones
/// in the serialised form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyData<T = ()> {
    /// The key's id (never the key itself): what rate limits and revocation name it by.
    pub id: String,
    /// The user the key belongs to.
    pub user_id: String,
    /// The organisation the key belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// What the key may do; routes check them with
    /// [`RequirePermissionLayer`](crate::RequirePermissionLayer).
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Requests per minute this key may make, for a rate-limit layer to read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<u64>,
    /// When the key stops being accepted (401 from then on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<ValidUntil>,
    /// Your own fields.
    #[serde(flatten)]
    pub extra: T,
}

impl ApiKeyData<()> {
    /// Key data with no permissions, no limit and no expiry.
    pub fn new(id: impl Into<String>, user_id: impl Into<String>) -> Self {
        Self::with_extra(id, user_id, ())
    }
}

impl<T> ApiKeyData<T> {
    /// Key data carrying your own `extra` fields.
    pub fn with_extra(id: impl Into<String>, user_id: impl Into<String>, extra: T) -> Self {
        Self {
            id: id.into(),
            user_id: user_id.into(),
            organization_id: None,
            permissions: Vec::new(),
            rate_limit: None,
            valid_until: None,
            extra,
        }
    }

    /// Sets the organisation.
    #[must_use]
    pub fn organization(mut self, organization_id: impl Into<String>) -> Self {
        self.organization_id = Some(organization_id.into());
        self
    }

    /// Adds a permission.
    #[must_use]
    pub fn permission(mut self, permission: impl Into<String>) -> Self {
        self.permissions.push(permission.into());
        self
    }

    /// Sets the per-key rate limit.
    #[must_use]
    pub fn rate_limit(mut self, per_minute: u64) -> Self {
        self.rate_limit = Some(per_minute);
        self
    }

    /// Sets the expiry.
    #[must_use]
    pub fn valid_until(mut self, until: ValidUntil) -> Self {
        self.valid_until = Some(until);
        self
    }

    /// True when the key grants `permission`.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }

    /// True when the key has expired at `now`.
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        self.valid_until.is_some_and(|v| v.is_past(now))
    }

    /// The [`Principal`] the layer puts into request extensions for this key.
    pub fn principal(&self) -> Principal {
        let p = Principal::api_key(&self.id).with_user(&self.user_id);
        match &self.organization_id {
            Some(org) => p.with_organization(org),
            None => p,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn data_round_trips_and_accepts_both_expiry_forms() {
        let d = ApiKeyData::new("k", "u")
            .permission("read")
            .valid_until(ValidUntil::from_unix_seconds(10));
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<ApiKeyData>(&json).unwrap(), d);
        let text: ApiKeyData = serde_json::from_str(
            r#"{"id":"k","user_id":"u","valid_until":"1970-01-01T00:00:10Z"}"#,
        )
        .unwrap();
        assert_eq!(text.valid_until, d.valid_until);
        assert!(
            serde_json::from_str::<ApiKeyData>(r#"{"id":"k","user_id":"u","valid_until":"soon"}"#)
                .is_err()
        );
    }

    #[test]
    fn expiry_is_inclusive() {
        let d = ApiKeyData::new("k", "u").valid_until(ValidUntil::from_unix_seconds(100));
        assert!(!d.is_expired_at(UNIX_EPOCH + Duration::from_secs(99)));
        assert!(d.is_expired_at(UNIX_EPOCH + Duration::from_secs(100)));
    }

    #[test]
    fn principal_carries_ids() {
        let p = ApiKeyData::new("k-demo", "u-1")
            .organization("o-1")
            .principal();
        assert_eq!(p.id(), "k-demo");
        assert_eq!(p.user_id(), Some("u-1"));
        assert_eq!(p.organization_id(), Some("o-1"));
    }
}
