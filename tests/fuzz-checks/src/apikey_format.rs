//! The API-key format and checksum (tower-vigil-apikey `format.rs`): `KeyFormat::any` accepts
//! exactly 16 to 512 printable ASCII bytes, and `verify_format` accepts exactly the keys of
//! the issued shape whose checksum a reference implementation computes the same.

use sha2::{Digest, Sha256};
use tower_vigil_apikey::{KeyFormat, MAX_KEY_LEN, MIN_KEY_LEN, verify_format};

use crate::input::chars_from;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const PREFIXES: [&str; 3] = ["vg", "live", "v_g"];

/// Checks both formats on `data` as a key, and on a well-formed key built from `data`.
pub fn check(data: &[u8]) {
    let key = String::from_utf8_lossy(data);
    let any = (MIN_KEY_LEN..=MAX_KEY_LEN).contains(&key.len())
        && key.bytes().all(|b| b.is_ascii_graphic());
    assert_eq!(KeyFormat::any().accepts(&key), any, "{key:?}");
    for prefix in PREFIXES {
        let verified = verify_format(&key, prefix);
        assert_eq!(verified, reference(&key, prefix), "{key:?} with {prefix:?}");
        if let Ok(issued) = KeyFormat::issued(prefix) {
            assert_eq!(issued.accepts(&key), verified);
        }
        if verified {
            assert_eq!(key.len(), prefix.len() + 1 + 32 + 1 + 6);
        }
    }
    // A key of the issued shape with the right checksum is accepted; with a checksum
    // character changed it is not.
    let signed = format!("vg_{}", chars_from(data, 32, BASE62));
    let good = format!("{signed}_{}", checksum(signed.as_bytes()));
    assert!(verify_format(&good, "vg"), "{good:?}");
    let last = good.as_bytes()[good.len() - 1];
    let other = BASE62[(BASE62.iter().position(|&c| c == last).unwrap_or(0) + 1) % 62];
    let bad = format!("{}{}", &good[..good.len() - 1], char::from(other));
    assert!(!verify_format(&bad, "vg"), "{bad:?}");
}

/// `{prefix}_{32 alphanumerics}_{6 alphanumerics}` with the checksum of everything before
/// the last `_`, written independently of the crate.
fn reference(key: &str, prefix: &str) -> bool {
    if prefix.contains('_') {
        return false;
    }
    let b = key.as_bytes();
    let p = prefix.len();
    if b.len() != p + 40 || !b.starts_with(prefix.as_bytes()) || b[p] != b'_' || b[p + 33] != b'_' {
        return false;
    }
    let (body, sum) = (&b[p + 1..p + 33], &b[p + 34..]);
    body.iter().chain(sum).all(u8::is_ascii_alphanumeric)
        && checksum(&b[..p + 33]).as_bytes() == sum
}

fn checksum(signed: &[u8]) -> String {
    Sha256::digest(signed)[..6]
        .iter()
        .map(|b| char::from(BASE62[usize::from(*b % 62)]))
        .collect()
}
