//! The session cookie, plain (tower-vigil-session `token/cookie.rs` and the layer's token
//! reading): a token is taken only from a cookie with exactly the configured (prefixed) name
//! and a value of the token's shape, the first such one wins, and a valid session cookie
//! after any amount of client junk is still found.

use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use tower_vigil_session::__fuzz::extract_token;
use tower_vigil_session::__fuzz::{CookieSigner, MAX_COOKIE_HEADER_LEN, SessionToken, find_cookie};

use crate::input::header_lines;
use crate::session_token::{cookie, is_signature_of, signer, token};

/// The first byte picks the cookie settings, the next 8 the session's own token; the rest
/// are `Cookie` lines sent before the line carrying that token.
pub fn check(data: &[u8]) {
    check_cookies(data, None);
}

/// The check for plain or (with `signer`) signed cookies.
pub(crate) fn check_cookies(data: &[u8], signed: Option<&CookieSigner>) {
    let [flags, seed @ ..] = data else { return };
    let (seed, rest) = seed.split_at(seed.len().min(8));
    let config = cookie(*flags);
    let name = config.full_name();
    let mine = token(seed);
    let value = |t: &SessionToken| match signed {
        Some(s) => s.sign(t),
        None => t.as_str().to_owned(),
    };
    let decode = |v: &str| match signed {
        Some(s) => s.verify(v),
        None => SessionToken::parse(v),
    };

    let mut headers = HeaderMap::new();
    for line in header_lines(rest, 3) {
        headers.append(COOKIE, line);
    }
    let found = |h: &HeaderMap| extract_token(h, None, Some(&config), signed);
    let (from_client, by_header) = found(&headers);
    assert!(!by_header);
    // The first value under the exact name that is a token (or a valid signature of one).
    let expected = find_cookie(&headers, &name).into_iter().find_map(decode);
    assert_eq!(from_client, expected);
    if let Some(t) = &from_client {
        assert_eq!(SessionToken::parse(t.as_str()).as_ref(), Some(t));
        let text: Vec<u8> = headers
            .iter()
            .flat_map(|(_, v)| v.as_bytes().to_vec())
            .collect();
        let carried = value(t);
        assert!(
            text.windows(carried.len()).any(|w| w == carried.as_bytes()),
            "{t:?} is not in the cookies sent"
        );
        if signed.is_some() {
            assert!(is_signature_of(&carried, t));
        }
    }
    // The session's own cookie on a line of its own after the client's: found unless the
    // client's came first or the headers are over the size limit.
    let total: usize = headers.iter().map(|(_, v)| v.len()).sum();
    let line = format!("{name}={}", value(&mine));
    headers.append(
        COOKIE,
        HeaderValue::from_str(&line).expect("a valid cookie"),
    );
    let (with_mine, _) = found(&headers);
    if total + line.len() <= MAX_COOKIE_HEADER_LEN {
        assert_eq!(with_mine, Some(from_client.unwrap_or(mine)));
    } else {
        assert_eq!(with_mine, None, "an oversized Cookie header is ignored");
    }
}

/// The signer the signed target uses.
pub(crate) fn signed() -> CookieSigner {
    signer()
}
