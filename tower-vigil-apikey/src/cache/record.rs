//! The shared cache's (L2) record encoding.
//!
//! Records are JSON with a version field, `{"v":1,"data":{…}}` for a key and
//! `{"v":1,"data":null}` for "no such key", so a future layout can be told apart (a record of
//! another version counts as a miss and is overwritten).

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::ApiKeyData;

const VERSION: u32 = 1;

#[derive(Serialize)]
struct RecordRef<'a, T> {
    v: u32,
    data: Option<&'a ApiKeyData<T>>,
}

#[derive(Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
struct Record<T> {
    v: u32,
    data: Option<ApiKeyData<T>>,
}

/// The record for `data`, or `None` when the store's `Extra` type refuses to serialise (a
/// map with non-string keys, a custom `Serialize` that fails): the key is then served without
/// being shared through L2, instead of failing the request.
pub(crate) fn encode<T: Serialize>(data: Option<&ApiKeyData<T>>) -> Option<Bytes> {
    match serde_json::to_vec(&RecordRef { v: VERSION, data }) {
        Ok(json) => Some(Bytes::from(json)),
        Err(e) => {
            tracing::warn!(error = %e, "api-key data does not serialise; not caching it in the shared tier");
            None
        }
    }
}

/// The record's content, or `None` when it cannot be read (corrupt or another version).
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Option<Option<ApiKeyData<T>>> {
    match serde_json::from_slice::<Record<T>>(bytes) {
        Ok(r) if r.v == VERSION => Some(r.data),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, "unreadable api-key record in the shared cache; refetching");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_reject_other_versions() {
        let d = ApiKeyData::new("k", "u").permission("p");
        assert_eq!(decode::<()>(&encode(Some(&d)).unwrap()), Some(Some(d)));
        assert_eq!(decode::<()>(&encode::<()>(None).unwrap()), Some(None));
        assert_eq!(decode::<()>(br#"{"v":2,"data":null}"#), None);
        assert_eq!(decode::<()>(b"garbage"), None);
    }
}
