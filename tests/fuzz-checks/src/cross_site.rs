//! The cross-site request check (tower-vigil-session, `CrossSiteLayer`): what the headers
//! decide, the `Origin` normaliser and the form-field reader that finds the token in a body.
//!
//! - A safe method always passes; `Sec-Fetch-Site: cross-site` is always refused; a request
//!   passes on its headers alone only when `require_token` is off and either the browser said
//!   `same-origin`/`none` (or `same-site` when allowed), or there is no `Sec-Fetch-Site` and the
//!   one `Origin` is the trusted one. Repeating either header never helps.
//! - A normalised origin normalises to itself, is `http(s)://` and has no path, query,
//!   fragment or user info.
//! - The token put percent-encoded first in a form body is read back exactly, whatever follows
//!   it; a value read from any body is never longer than the body.

use http::{HeaderMap, HeaderValue, Method};
use tower_vigil_session::__fuzz::{cross_site_decide, form_value, normalise_origin};

use crate::input::header_lines;

const TRUSTED: &str = "https://app.example:8443";

/// The first byte picks the method and the settings; the rest, cut at `\n`: the
/// `Sec-Fetch-Site` values (line 0, and line 3 repeated when the flag says so), the `Origin`
/// (line 1) and a form value (line 2).
pub fn check(data: &[u8]) {
    let [flags, rest @ ..] = data else { return };
    let method = [
        Method::GET,
        Method::HEAD,
        Method::OPTIONS,
        Method::TRACE,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ][usize::from(flags & 7)]
    .clone();
    let allow_same_site = flags & 8 != 0;
    let require_token = flags & 16 != 0;
    let repeat = flags & 32 != 0;
    let lines: Vec<&[u8]> = rest.split(|&b| b == b'\n').collect();
    let line = |i: usize| lines.get(i).copied().unwrap_or_default();
    let value = |i: usize| {
        header_lines(line(i), 1)
            .into_iter()
            .next()
            .filter(|v| !v.is_empty())
    };

    let mut headers = HeaderMap::new();
    let site = value(0);
    let origin = value(1);
    if let Some(s) = &site {
        headers.append("sec-fetch-site", s.clone());
        if repeat {
            headers.append("sec-fetch-site", value(3).unwrap_or_else(|| s.clone()));
        }
    }
    if let Some(o) = &origin {
        headers.append(http::header::ORIGIN, o.clone());
        if repeat {
            headers.append(http::header::ORIGIN, HeaderValue::from_static(TRUSTED));
        }
    }
    let verdict = cross_site_decide(
        &method,
        &headers,
        &[TRUSTED],
        allow_same_site,
        require_token,
    );

    let safe = matches!(
        method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    if safe {
        assert_eq!(verdict, Ok(false), "a safe method passes");
    } else {
        if site.as_ref().is_some_and(|s| s.as_bytes() == b"cross-site") {
            assert!(verdict.is_err(), "cross-site is refused: {verdict:?}");
        }
        if verdict == Ok(false) {
            assert!(
                !require_token && !repeat,
                "passed without a token: {verdict:?}"
            );
            let vouched = match &site {
                Some(s) => {
                    matches!(s.as_bytes(), b"same-origin" | b"none")
                        || (allow_same_site && s.as_bytes() == b"same-site")
                }
                None => origin
                    .as_ref()
                    .and_then(|o| o.to_str().ok())
                    .and_then(normalise_origin)
                    .is_some_and(|o| o == TRUSTED),
            };
            assert!(
                vouched,
                "passed on headers that do not vouch: {site:?} {origin:?}"
            );
        }
    }

    if let Some(n) = std::str::from_utf8(line(1)).ok().and_then(normalise_origin) {
        assert_eq!(
            normalise_origin(&n).as_deref(),
            Some(n.as_str()),
            "idempotent"
        );
        let rest = n
            .strip_prefix("https://")
            .or_else(|| n.strip_prefix("http://"))
            .expect("an http(s) origin");
        assert!(!rest.is_empty());
        assert!(!rest.contains(['/', '?', '#', '@']), "{n}");
    }

    let token = line(2);
    let mut body = b"csrf_token=".to_vec();
    for &b in token {
        body.extend_from_slice(format!("%{b:02X}").as_bytes());
    }
    body.push(b'&');
    body.extend_from_slice(rest);
    assert_eq!(form_value(&body, "csrf_token").as_deref(), Some(token));
    if let Some(v) = form_value(rest, "csrf_token") {
        assert!(v.len() <= rest.len());
    }
}
