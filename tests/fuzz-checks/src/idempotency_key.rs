//! `Idempotency-Key` (tower-vigil-idempotency `key.rs`), a Structured Field string or a bare
//! token: an accepted key is 1 to 255 printable ASCII characters, quoting it as an sf-string
//! gives it back, a key that is a valid bare token reads the same bare, and the header path
//! agrees with the value parser.

use http::{HeaderMap, HeaderValue};
use tower_vigil_idempotency::key::{IDEMPOTENCY_KEY, IdempotencyKey, KeyError, MAX_KEY_LEN};

/// Checks the parser on `data` as one header value.
pub fn check(data: &[u8]) {
    let parsed = IdempotencyKey::parse(data);
    if let Ok(value) = HeaderValue::from_bytes(data) {
        let mut headers = HeaderMap::new();
        headers.insert(&IDEMPOTENCY_KEY, value.clone());
        assert_eq!(
            IdempotencyKey::from_headers(&headers),
            parsed.clone().map(Some)
        );
        headers.append(&IDEMPOTENCY_KEY, value);
        assert_eq!(
            IdempotencyKey::from_headers(&headers),
            Err(KeyError::Duplicated)
        );
    }
    let Ok(key) = parsed else { return };
    let k = key.as_str();
    assert!(
        (1..=MAX_KEY_LEN).contains(&k.len()),
        "{} characters",
        k.len()
    );
    assert!(k.bytes().all(|c| (0x20..=0x7e).contains(&c)), "{k:?}");
    let quoted = format!("\"{}\"", k.replace('\\', "\\\\").replace('"', "\\\""));
    assert_eq!(
        IdempotencyKey::parse(quoted.as_bytes()).as_ref(),
        Ok(&key),
        "{quoted:?}"
    );
    let padded = [b" \t".as_slice(), data, b"\t "].concat();
    assert_eq!(IdempotencyKey::parse(&padded).as_ref(), Ok(&key));
    let bare = k
        .bytes()
        .all(|c| c.is_ascii_graphic() && !matches!(c, b'"' | b'\\' | b',' | b';'));
    if bare {
        assert_eq!(
            IdempotencyKey::parse(k.as_bytes()).as_ref(),
            Ok(&key),
            "{k:?}"
        );
    }
}
