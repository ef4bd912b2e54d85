//! [`HeaderKey`]: a header's value, hashed.

use http::HeaderName;
use tower_vigil_core::secret::SecretHasher;

use super::extractor::{KeyExtractor, RequestHead};

/// The value of a header, as its SHA-256 (the header may carry a credential, which must never
/// be stored in plain text): `h:<name>:<96 bits of hex>`. A missing or empty header gives `None`.
#[derive(Debug, Clone)]
pub struct HeaderKey {
    name: HeaderName,
}

impl HeaderKey {
    /// Keys on the header `name`.
    pub fn new(name: HeaderName) -> Self {
        Self { name }
    }
}

impl KeyExtractor for HeaderKey {
    fn extract(&self, req: &RequestHead<'_>) -> Option<String> {
        let value = req.headers().get(&self.name)?.as_bytes();
        if value.is_empty() {
            return None;
        }
        let hex = SecretHasher::sha256().hash_hex(value);
        Some(format!("h:{}:{}", self.name, &hex[..24]))
    }
}
