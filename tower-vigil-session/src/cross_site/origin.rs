//! Origins as `scheme://host[:port]`: the configured trusted ones, normalised once at build
//! time, and a request's `Origin`, normalised the same way before the exact comparison.

/// `origin` as `scheme://host[:port]`: scheme and host lowercased, the scheme's default port
/// dropped. `None` when it is anything else: another scheme, a path (even `/`), a query, a
/// fragment, user info, an empty or malformed host or port, or the opaque origin `null`.
pub(crate) fn normalise(origin: &str) -> Option<String> {
    let (scheme, rest) = origin.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    if rest.is_empty()
        || rest
            .bytes()
            .any(|b| !b.is_ascii_graphic() || matches!(b, b'/' | b'?' | b'#' | b'@' | b'\\'))
    {
        return None;
    }
    let (host, port) = if let Some(r) = rest.strip_prefix('[') {
        let (h, after) = r.split_once(']')?;
        let ip_ok = !h.is_empty()
            && h.contains(':')
            && h.bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        if !ip_ok {
            return None;
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (format!("[{}]", h.to_ascii_lowercase()), port)
    } else {
        let (h, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        };
        let host_ok = !h.is_empty()
            && h.split('.').all(|label| !label.is_empty())
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if !host_ok {
            return None;
        }
        (h.to_ascii_lowercase(), port)
    };
    let port = match port {
        None => None,
        Some(p) => {
            if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let n: u32 = p.parse().ok()?;
            if n == 0 || n > 65535 {
                return None;
            }
            (n != default_port).then_some(n)
        }
    };
    Some(match port {
        Some(p) => format!("{scheme}://{host}:{p}"),
        None => format!("{scheme}://{host}"),
    })
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn normalises_exact_origins() {
        let ok = [
            ("https://example.com", "https://example.com"),
            ("HTTPS://Example.COM:443", "https://example.com"),
            ("http://example.com:80", "http://example.com"),
            ("http://localhost:3000", "http://localhost:3000"),
            ("https://a.example.com:8443", "https://a.example.com:8443"),
            ("https://[::1]:8443", "https://[::1]:8443"),
            ("http://127.0.0.1", "http://127.0.0.1"),
        ];
        for (input, want) in ok {
            assert_eq!(normalise(input).as_deref(), Some(want), "{input}");
        }
        let bad = [
            "null",
            "",
            "example.com",
            "https://",
            "https://example.com/",
            "https://example.com/path",
            "https://example.com?q",
            "https://example.com#f",
            "https://user@example.com",
            "ftp://example.com",
            "https://example.com:",
            "https://example.com:0",
            "https://example.com:65536",
            "https://example.com:http",
            "https://exa mple.com",
            "https://example..com",
            "https://[]",
            "https://[zz::1]",
            "https://exa_mple.com",
        ];
        for input in bad {
            assert_eq!(normalise(input), None, "{input}");
        }
    }
}
