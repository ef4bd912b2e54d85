//! What the session-token targets share: a well-formed token from the fuzzer's bytes, the
//! signer, and the cookie settings a target runs under.

use tower_vigil_session::__fuzz::{CookieSigner, SessionToken, TOKEN_LEN};
use tower_vigil_session::{CookieConfig, CookiePrefix};

use crate::input::chars_from;

const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A well-formed token whose characters `seed` picks.
pub(crate) fn token(seed: &[u8]) -> SessionToken {
    SessionToken::parse(&chars_from(seed, TOKEN_LEN, BASE64URL)).expect("65 base64url characters")
}

/// The old signing key, then the current one.
pub(crate) const OLD_KEY: [u8; 32] = [7; 32];
pub(crate) const NEW_KEY: [u8; 32] = [9; 32];

/// A signer that signs with the new key and accepts the old one too (a rotation).
pub(crate) fn signer() -> CookieSigner {
    CookieSigner::new([NEW_KEY.to_vec(), OLD_KEY.to_vec()]).expect("32-byte keys")
}

/// The cookie `value` is a signature of `token` by one of the keys, byte for byte.
pub(crate) fn is_signature_of(value: &str, token: &SessionToken) -> bool {
    [OLD_KEY, NEW_KEY].iter().any(|k| {
        CookieSigner::new([k.to_vec()])
            .expect("32-byte key")
            .sign(token)
            == value
    })
}

/// One of three cookie settings, by `flags`: the default (`__Host-vigil_session`), plain
/// http (`vigil_session`), or a custom unprefixed name (`sid`).
pub(crate) fn cookie(flags: u8) -> CookieConfig {
    match flags % 3 {
        0 => CookieConfig::new(),
        1 => CookieConfig::new().secure(false),
        _ => CookieConfig::new().name("sid").prefix(CookiePrefix::None),
    }
}
