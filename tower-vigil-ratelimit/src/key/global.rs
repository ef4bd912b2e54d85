//! [`GlobalKey`]: one quota for everyone.

use super::extractor::{KeyExtractor, RequestHead};

/// One quota shared by every request (`global`).
#[derive(Debug, Clone, Copy, Default)]
pub struct GlobalKey;

impl KeyExtractor for GlobalKey {
    fn extract(&self, _: &RequestHead<'_>) -> Option<String> {
        Some("global".to_owned())
    }
}
