//! No public function panics on any string (issue 12, item 12): every public parser, and
//! `ApiKeyCache::check_key` and `ApiKeyLayer` on the memory backend, get arbitrary
//! `String`s and byte strings (made into strings lossily, or sent as header bytes) and must
//! answer with a rejection for malformed input.
//!
//! Arbitrary strings rarely hit the one shape that matters (a multi-byte character across a
//! boundary the issued format cuts at), so `issued_like` builds strings of that shape.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderValue, Request, StatusCode};
use proptest::prelude::*;
use tower::ServiceExt;
use tower_vigil_apikey::{
    ApiKeyCache, ApiKeyData, ApiKeyLayer, KeyFormat, KeyStatus, MAX_KEY_LEN, MIN_KEY_LEN,
    StaticKeyStore, ValidUntil, generate_key, require, verify_format,
};
use tower_vigil_core::MemoryBackend;

/// `vg_`, then 30 to 42 characters mixing base62, `_` and multi-byte characters: the length
/// range of the issued format, with characters of 1 to 4 bytes around its cut points.
fn issued_like() -> impl Strategy<Value = String> {
    "vg_[a-zA-Z0-9_éß€😀\u{0}]{30,42}"
}

/// Arbitrary bytes as a string (invalid UTF-8 becomes U+FFFD, three bytes).
fn lossy_bytes() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<u8>(), 0..600)
        .prop_map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn any_input() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), issued_like(), lossy_bytes()]
}

/// The key shape `KeyFormat::Any` accepts.
fn any_format_accepts(s: &str) -> bool {
    (MIN_KEY_LEN..=MAX_KEY_LEN).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic())
}

/// The shape of an issued key: `vg_`, 32 and 6 base62 characters (checksum unchecked).
fn issued_shape(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("vg_") else {
        return false;
    };
    let b = rest.as_bytes();
    b.len() == 39
        && b[32] == b'_'
        && b[..32]
            .iter()
            .chain(&b[33..])
            .all(u8::is_ascii_alphanumeric)
}

#[test]
fn a_multi_byte_character_at_the_checksum_cut_is_a_mismatch() {
    // 31 ASCII characters and a 2-byte one: the body/checksum cut (byte 32) falls inside it.
    let key = format!("vg_{}é_abcde", "a".repeat(31));
    assert_eq!(key.len() - 3, 39);
    assert!(!verify_format(&key, "vg"));
    assert!(!KeyFormat::issued("vg").unwrap().accepts(&key));
    let key = format!("vg_{}_abcd€", "a".repeat(32));
    assert!(!verify_format(&key, "vg"));
    // A non-ASCII prefix argument is just another mismatch.
    assert!(!verify_format(&key, "é"));
    assert!(!verify_format("é_", "é"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn key_format_checks_never_panic(key in any_input(), prefix in any_input()) {
        prop_assert!(!verify_format(&key, "vg") || issued_shape(&key));
        let _ = verify_format(&key, &prefix);
        prop_assert_eq!(KeyFormat::any().accepts(&key), any_format_accepts(&key));
        let issued = KeyFormat::issued("vg").unwrap();
        prop_assert!(!issued.accepts(&key) || issued_shape(&key));
    }

    #[test]
    fn builders_reject_bad_strings_without_panicking(s in any_input()) {
        match generate_key(&s) {
            Ok(key) => prop_assert!(verify_format(&key, &s)),
            Err(e) => prop_assert_eq!(e.field(), "key_prefix"),
        }
        prop_assert_eq!(KeyFormat::issued(&s).is_ok(), generate_key(&s).is_ok());
        if require(&s).is_ok() {
            prop_assert!(s.bytes().all(|b| b.is_ascii_graphic()));
        }
    }

    #[test]
    fn valid_until_parsers_never_panic(s in any_input(), bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        if ValidUntil::parse_rfc3339(&s).is_some() {
            prop_assert!(s.is_ascii() && s.len() >= 20);
        }
        let _ = serde_json::from_slice::<ValidUntil>(&bytes);
        let as_json = serde_json::to_string(&s).unwrap();
        prop_assert_eq!(
            serde_json::from_str::<ValidUntil>(&as_json).ok(),
            ValidUntil::parse_rfc3339(&s)
        );
        let _ = ValidUntil::after(SystemTime::now(), Duration::MAX);
        let _ = ValidUntil::from_unix_seconds(i64::MIN).is_past(UNIX_EPOCH);
    }
}

/// A cache on memory in `rt`, whose store holds one valid key of each format.
fn cache(
    rt: &tokio::runtime::Runtime,
    format: KeyFormat,
) -> (ApiKeyCache<MemoryBackend, StaticKeyStore>, String) {
    rt.block_on(async {
        let store = StaticKeyStore::new();
        let cache = ApiKeyCache::builder(MemoryBackend::new(), store.clone())
            .format(format)
            .build()
            .unwrap();
        let good = generate_key("vg").unwrap();
        store.insert(&cache.hash_key(&good), ApiKeyData::new("k-1", "u-1"));
        (cache, good)
    })
}

#[test]
fn check_key_rejects_any_malformed_string_without_panicking() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for format in [KeyFormat::any(), KeyFormat::issued("vg").unwrap()] {
        let (cache, good) = cache(&rt, format.clone());
        assert!(rt.block_on(cache.check_key(&good)).is_valid());
        proptest!(ProptestConfig::with_cases(512), |(s in any_input())| {
            let got = rt.block_on(cache.check_key(&s));
            if s == good {
                prop_assert!(got.is_valid());
            } else if format.accepts(&s) {
                prop_assert!(matches!(got, KeyStatus::Unknown), "{:?}", got);
            } else {
                prop_assert!(matches!(got, KeyStatus::InvalidFormat), "{:?}", got);
            }
            prop_assert!(rt.block_on(cache.lookup_hash(&s)).unwrap().is_none() || s.len() == 64);
            prop_assert!(rt.block_on(cache.invalidate_hash(&s)).is_ok());
        });
    }
}

#[test]
fn the_layer_answers_any_header_bytes_with_a_4xx() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (cache, good) = cache(&rt, KeyFormat::issued("vg").unwrap());
    let svc = tower::ServiceBuilder::new()
        .layer(ApiKeyLayer::new(cache))
        .service_fn(|_req: Request<String>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
        });
    proptest!(ProptestConfig::with_cases(512), |(
        bytes in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..600),
            issued_like().prop_map(String::into_bytes),
        ],
        bearer in any::<bool>(),
    )| {
        let Ok(mut value) = HeaderValue::from_bytes(&bytes) else { return Ok(()) };
        let name = if bearer {
            let mut v = b"Bearer ".to_vec();
            v.extend_from_slice(&bytes);
            value = HeaderValue::from_bytes(&v).unwrap();
            "authorization"
        } else {
            "x-api-key"
        };
        let req = Request::builder().header(name, value).body(String::new()).unwrap();
        let status = rt.block_on(svc.clone().oneshot(req)).unwrap().status();
        let trimmed = bytes
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t'))
            .map_or(&[][..], |start| &bytes[start..]);
        let trimmed = trimmed
            .iter()
            .rposition(|b| !matches!(b, b' ' | b'\t'))
            .map_or(&[][..], |end| &trimmed[..=end]);
        if trimmed == good.as_bytes() {
            prop_assert_eq!(status, StatusCode::OK);
        } else {
            prop_assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
    });
}

/// `Extra` fields that JSON cannot hold (a map with non-string keys): the key is served from
/// the store without being shared through L2, instead of a panic in the lookup.
#[tokio::test(flavor = "current_thread")]
async fn extra_data_that_does_not_serialise_is_served_uncached() {
    type Extra = std::collections::BTreeMap<(u8, u8), u8>;
    let store: StaticKeyStore<Extra> = StaticKeyStore::new();
    let cache = ApiKeyCache::builder(MemoryBackend::new(), store.clone())
        .build()
        .unwrap();
    let key = "a-key-with-unserialisable-extra";
    let extra: Extra = [((1, 2), 3)].into_iter().collect();
    store.insert(
        &cache.hash_key(key),
        ApiKeyData::with_extra("k-1", "u-1", extra.clone()),
    );
    for _ in 0..2 {
        assert_eq!(
            cache.check_key(key).await.valid().unwrap().data().extra,
            extra
        );
    }
}
