//! Entry points for the fuzz targets (`fuzz/` at the workspace root) into parsers that are
//! internal to this crate. **Not API**: hidden from the docs, exempt from semver, and may
//! change or vanish in any release.

use http::{HeaderMap, HeaderName};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{ApiKeyData, ApiKeyRejectionKind};

/// The credential the layer would read from `headers`: from the header `header` and, when
/// `bearer` is set, `Authorization: Bearer` (what `ApiKeyLayer` does before any lookup).
pub fn extract_credential(
    headers: &HeaderMap,
    header: HeaderName,
    bearer: bool,
) -> Result<String, ApiKeyRejectionKind> {
    let extractor = crate::auth::credential::Extractor {
        header,
        bearer,
        strip: false,
    };
    extractor.extract(headers).map_err(|(kind, _)| kind)
}

/// Encodes the shared cache's (L2) record for `data` (`None`: "no such key").
pub fn encode_record<T: Serialize>(data: Option<&ApiKeyData<T>>) -> Option<bytes::Bytes> {
    crate::cache::record::encode(data)
}

/// Decodes an L2 record as the cache does: `None` when it cannot be read.
pub fn decode_record<T: DeserializeOwned>(bytes: &[u8]) -> Option<Option<ApiKeyData<T>>> {
    crate::cache::record::decode(bytes)
}
