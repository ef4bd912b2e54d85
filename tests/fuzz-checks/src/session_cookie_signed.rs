//! The signed session cookie (tower-vigil-session `token/signing.rs`): everything the plain
//! cookie target checks, and a signature is accepted only byte for byte as one of the keys
//! writes it (no second spelling of a valid signature), by the current or the old key.

use crate::session_cookie::{check_cookies, signed};
use crate::session_token::is_signature_of;

/// As the plain cookie target with a rotating signer; then `data` as a cookie value.
pub fn check(data: &[u8]) {
    let signer = signed();
    check_cookies(data, Some(&signer));
    let value = String::from_utf8_lossy(data);
    if let Some(t) = signer.verify(&value) {
        assert!(
            is_signature_of(&value, &t),
            "{value:?} verified but is not a signature"
        );
    }
}
