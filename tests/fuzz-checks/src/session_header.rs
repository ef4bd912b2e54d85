//! The session token in a header (tower-vigil-session, the layer's token reading): a present
//! header decides alone (the cookie is not consulted), a token is taken only from a value of
//! at most 256 bytes that is, trimmed, the token (or its signature); without the header the
//! cookie is read.

use http::header::COOKIE;
use http::{HeaderMap, HeaderName, HeaderValue};
use tower_vigil_session::__fuzz::SessionToken;
use tower_vigil_session::__fuzz::extract_token;

use crate::input::header_lines;
use crate::session_token::{cookie, is_signature_of, signer, token};

/// The first byte picks signed or not and the cookie settings, the next 8 the token in the
/// cookie; the rest is the header's value (absent when empty).
pub fn check(data: &[u8]) {
    let [flags, seed @ ..] = data else { return };
    let (seed, rest) = seed.split_at(seed.len().min(8));
    let signer = (flags & 1 == 1).then(signer);
    let config = cookie(flags >> 1);
    let name = HeaderName::from_static("x-session-token");
    let in_cookie = token(seed);
    let cookie_value = match &signer {
        Some(s) => s.sign(&in_cookie),
        None => in_cookie.as_str().to_owned(),
    };
    let mut headers = HeaderMap::new();
    let line = format!("{}={cookie_value}", config.full_name());
    headers.append(
        COOKIE,
        HeaderValue::from_str(&line).expect("a valid cookie"),
    );
    let value = header_lines(rest, 1).into_iter().next();
    if let Some(v) = &value {
        headers.insert(&name, v.clone());
    }
    let (found, by_header) = extract_token(&headers, Some(&name), Some(&config), signer.as_ref());
    let Some(v) = value else {
        assert_eq!((found, by_header), (Some(in_cookie), false));
        return;
    };
    assert!(by_header, "a present header decides");
    let Some(t) = found else { return };
    assert!(v.len() <= 256);
    let trimmed = v.to_str().expect("a token is ASCII").trim();
    match &signer {
        Some(_) => assert!(is_signature_of(trimmed, &t), "{trimmed:?}"),
        None => assert_eq!(SessionToken::parse(trimmed).as_ref(), Some(&t)),
    }
}
