//! Reading the credential from `X-API-Key` (name configurable) or `Authorization: Bearer`.

use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue};

use crate::ApiKeyRejectionKind;
use crate::format::MAX_KEY_LEN;

/// Why a request carries no usable credential: [`Missing`](ApiKeyRejectionKind::Missing) or
/// [`Malformed`](ApiKeyRejectionKind::Malformed), with an explanation.
pub(crate) type Refusal = (ApiKeyRejectionKind, &'static str);

/// Where the credential is read from.
#[derive(Debug, Clone)]
pub(crate) struct Extractor {
    pub(crate) header: HeaderName,
    pub(crate) bearer: bool,
    pub(crate) strip: bool,
}

impl Default for Extractor {
    /// `X-API-Key` and `Authorization: Bearer`, not stripped.
    fn default() -> Self {
        Self {
            header: HeaderName::from_static("x-api-key"),
            bearer: true,
            strip: false,
        }
    }
}

const fn malformed(detail: &'static str) -> Refusal {
    (ApiKeyRejectionKind::Malformed, detail)
}

impl Extractor {
    /// The credential, or why the request carries none usable. Never inspects more than one
    /// value per header and never allocates more than 512 bytes.
    pub(crate) fn extract(&self, headers: &HeaderMap) -> Result<String, Refusal> {
        let api = single(headers, &self.header)?
            .map(|v| credential(v.as_bytes()))
            .transpose()?;
        let bearer = if self.bearer {
            single(headers, &header::AUTHORIZATION)?
                .and_then(|v| bearer_token(v.as_bytes()))
                .map(credential)
                .transpose()?
        } else {
            None
        };
        match (api, bearer) {
            (None, None) => Err((
                ApiKeyRejectionKind::Missing,
                ApiKeyRejectionKind::Missing.detail(),
            )),
            (Some(k), None) | (None, Some(k)) => Ok(k.to_owned()),
            (Some(a), Some(b)) if a == b => Ok(a.to_owned()),
            (Some(_), Some(_)) => Err(malformed(
                "the API-key header and Authorization: Bearer carry different keys",
            )),
        }
    }

    /// Removes the credential headers so the inner service never sees the key.
    pub(crate) fn strip(&self, headers: &mut HeaderMap) {
        headers.remove(&self.header);
        if self.bearer
            && headers
                .get(header::AUTHORIZATION)
                .is_some_and(|v| bearer_token(v.as_bytes()).is_some())
        {
            headers.remove(header::AUTHORIZATION);
        }
    }
}

/// The header's only value; a repeated header is ambiguous and rejected.
fn single<'a>(
    headers: &'a HeaderMap,
    name: &HeaderName,
) -> Result<Option<&'a HeaderValue>, Refusal> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(malformed("the credential header was sent more than once"));
    }
    Ok(first)
}

/// The token of `Bearer <token>` (scheme case-insensitive), or `None` for another scheme.
fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    let value = trim(value);
    let (scheme, rest) =
        value.split_at(value.iter().position(|&b| b == b' ').unwrap_or(value.len()));
    scheme.eq_ignore_ascii_case(b"bearer").then_some(rest)
}

/// Checks one credential: printable ASCII, 1 to 512 bytes after trimming whitespace.
fn credential(raw: &[u8]) -> Result<&str, Refusal> {
    let v = trim(raw);
    if v.is_empty() {
        return Err(malformed("the credential is empty"));
    }
    if v.len() > MAX_KEY_LEN {
        return Err(malformed("the credential is longer than 512 bytes"));
    }
    if !v.iter().all(u8::is_ascii_graphic) {
        return Err(malformed("the credential must be printable ASCII"));
    }
    // Printable ASCII is valid UTF-8.
    std::str::from_utf8(v).map_err(|_| malformed("the credential must be printable ASCII"))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_bytes(v).unwrap(),
            );
        }
        h
    }

    fn kind(h: &HeaderMap) -> Result<String, ApiKeyRejectionKind> {
        Extractor::default().extract(h).map_err(|(kind, _)| kind)
    }

    #[test]
    fn reads_either_header() {
        assert_eq!(kind(&headers(&[("x-api-key", b"abc")])), Ok("abc".into()));
        assert_eq!(
            kind(&headers(&[("authorization", b"Bearer abc")])),
            Ok("abc".into())
        );
        assert_eq!(
            kind(&headers(&[("authorization", b"bearer   abc ")])),
            Ok("abc".into())
        );
        assert_eq!(
            kind(&headers(&[
                ("x-api-key", b"abc"),
                ("authorization", b"Bearer abc")
            ])),
            Ok("abc".into())
        );
    }

    #[test]
    fn missing_and_other_schemes() {
        assert_eq!(kind(&HeaderMap::new()), Err(ApiKeyRejectionKind::Missing));
        assert_eq!(
            kind(&headers(&[("authorization", b"Basic dXNlcjpw")])),
            Err(ApiKeyRejectionKind::Missing)
        );
    }

    #[test]
    fn malformed_values_are_401_material() {
        let long = vec![b'a'; 513];
        for h in [
            headers(&[("x-api-key", b"a\xffb")]),
            headers(&[("x-api-key", b"a b")]),
            headers(&[("x-api-key", b"  ")]),
            headers(&[("x-api-key", &long)]),
            headers(&[("x-api-key", b"abc"), ("x-api-key", b"abc")]),
            headers(&[
                ("authorization", b"Bearer a"),
                ("authorization", b"Bearer a"),
            ]),
            headers(&[("authorization", b"Bearer")]),
            headers(&[("x-api-key", b"abc"), ("authorization", b"Bearer abd")]),
        ] {
            assert_eq!(kind(&h), Err(ApiKeyRejectionKind::Malformed), "{h:?}");
        }
        assert_eq!(
            kind(&headers(&[("x-api-key", &long[..512])])).map(|k| k.len()),
            Ok(512)
        );
    }

    #[test]
    fn strip_removes_only_credentials() {
        let mut h = headers(&[
            ("x-api-key", b"abc"),
            ("authorization", b"Basic x"),
            ("accept", b"*/*"),
        ]);
        Extractor::default().strip(&mut h);
        assert!(h.get("x-api-key").is_none());
        assert!(h.get("authorization").is_some());
        let mut h = headers(&[("authorization", b"Bearer abc")]);
        Extractor::default().strip(&mut h);
        assert!(h.is_empty());
    }

    proptest::proptest! {
        /// Any header bytes give a credential of printable ASCII (at most 512 bytes) or a
        /// rejection; never a panic.
        #[test]
        fn arbitrary_headers_never_panic(
            api in proptest::collection::vec(proptest::num::u8::ANY, 0..700),
            auth in proptest::collection::vec(proptest::num::u8::ANY, 0..700),
        ) {
            let mut h = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_bytes(&api) {
                h.insert("x-api-key", v);
            }
            if let Ok(v) = HeaderValue::from_bytes(&auth) {
                h.insert("authorization", v);
            }
            if let Ok(k) = Extractor::default().extract(&h) {
                proptest::prop_assert!(!k.is_empty() && k.len() <= MAX_KEY_LEN);
                proptest::prop_assert!(k.bytes().all(|b| b.is_ascii_graphic()));
            }
        }
    }
}
