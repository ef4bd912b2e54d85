//! `X-API-Key` / `Authorization: Bearer` extraction (tower-vigil-apikey `auth/credential.rs`):
//! an accepted credential is 1 to 512 printable ASCII bytes and is exactly what one of the
//! headers carried; a repeated header or two different keys are refused; no credential is
//! "missing", never a guess.

use http::{HeaderMap, HeaderName, HeaderValue};
use tower_vigil_apikey::__fuzz::extract_credential;
use tower_vigil_apikey::{ApiKeyRejectionKind, MAX_KEY_LEN};

/// The first byte picks the settings (Bearer on or off, the key header's name); each
/// following `\n`-separated line is one header, its first byte saying which.
pub fn check(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let bearer = flags & 1 == 0;
    let name = if flags & 2 == 0 {
        HeaderName::from_static("x-api-key")
    } else {
        HeaderName::from_static("x-custom-key")
    };
    let mut headers = HeaderMap::new();
    for line in rest
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .take(4)
    {
        let value: Vec<u8> = line[1..]
            .iter()
            .copied()
            .filter(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
            .collect();
        let Ok(value) = HeaderValue::from_bytes(&value) else {
            continue;
        };
        let header = match line[0] % 3 {
            0 => name.clone(),
            1 => http::header::AUTHORIZATION,
            _ => HeaderName::from_static("x-other"),
        };
        headers.append(header, value);
    }

    let api: Vec<&[u8]> = headers
        .get_all(&name)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    let auth: Vec<&[u8]> = headers
        .get_all(http::header::AUTHORIZATION)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    let bearer_token = |v: &[u8]| -> Option<Vec<u8>> {
        let v = trim(v);
        let (scheme, token) = v.split_at(v.iter().position(|&b| b == b' ').unwrap_or(v.len()));
        scheme
            .eq_ignore_ascii_case(b"bearer")
            .then(|| trim(token).to_vec())
    };
    let result = extract_credential(&headers, name.clone(), bearer);
    match &result {
        Ok(key) => {
            assert!(!key.is_empty() && key.len() <= MAX_KEY_LEN, "{key:?}");
            assert!(key.bytes().all(|b| b.is_ascii_graphic()), "{key:?}");
            let from_api = api.first().is_some_and(|v| trim(v) == key.as_bytes());
            let from_bearer = bearer
                && auth
                    .first()
                    .and_then(|v| bearer_token(v))
                    .is_some_and(|t| t == key.as_bytes());
            assert!(
                from_api || from_bearer,
                "{key:?} is not what {headers:?} carried"
            );
            assert!(
                api.len() <= 1 && (!bearer || auth.len() <= 1),
                "a repeated header was read"
            );
        }
        Err(ApiKeyRejectionKind::Missing) => {
            assert!(api.is_empty(), "{headers:?}");
            assert!(
                !bearer || auth.iter().all(|v| bearer_token(v).is_none()),
                "{headers:?}"
            );
        }
        Err(kind) => assert_eq!(*kind, ApiKeyRejectionKind::Malformed, "{headers:?}"),
    }
    if api.len() > 1 || (bearer && auth.len() > 1) {
        assert_eq!(result, Err(ApiKeyRejectionKind::Malformed), "{headers:?}");
    }
    // One well-formed key header and nothing else: that key.
    if let [only] = api[..]
        && (!bearer || auth.is_empty())
    {
        let t = trim(only);
        if (1..=MAX_KEY_LEN).contains(&t.len()) && t.iter().all(u8::is_ascii_graphic) {
            assert_eq!(result.as_deref().ok(), std::str::from_utf8(t).ok());
        }
    }
}

fn trim(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(start, |e| e + 1);
    &v[start..end]
}
