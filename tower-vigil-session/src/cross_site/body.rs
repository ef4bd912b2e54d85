//! [`CrossSiteBody`]: the request body the inner service receives, and reading a form body
//! (up to the limit) to find the token in it.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, header};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::rejection::CrossSiteRejectionKind;

pin_project! {
    /// The request body the inner service of a [`CrossSite`](super::CrossSite) receives: the
    /// original body, streamed through untouched, or, when the layer read a form body to find
    /// its token, the very same bytes (and trailers) from memory. It implements
    /// `http_body::Body<Data = Bytes>` with the original body's error, which is all an axum
    /// `Router` (or any hyper service) needs.
    #[derive(Debug)]
    pub struct CrossSiteBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    #[derive(Debug)]
    enum Kind<B> {
        Inner { #[pin] body: B },
        Buffered { data: Option<Bytes>, trailers: Option<HeaderMap> },
    }
}

impl<B> CrossSiteBody<B> {
    /// The original body, passed through.
    pub fn inner(body: B) -> Self {
        Self {
            kind: Kind::Inner { body },
        }
    }

    /// A body read whole: `data`, then `trailers` if any.
    pub fn buffered(data: Bytes, trailers: Option<HeaderMap>) -> Self {
        Self {
            kind: Kind::Buffered {
                data: (!data.is_empty()).then_some(data),
                trailers,
            },
        }
    }

    /// True when the layer read the body (to find a token in a form).
    pub fn is_buffered(&self) -> bool {
        matches!(self.kind, Kind::Buffered { .. })
    }
}

impl<B: Body<Data = Bytes>> Body for CrossSiteBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project().kind.project() {
            KindProj::Inner { body } => body.poll_frame(cx),
            KindProj::Buffered { data, trailers } => Poll::Ready(match data.take() {
                Some(d) => Some(Ok(Frame::data(d))),
                None => trailers.take().map(|t| Ok(Frame::trailers(t))),
            }),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            Kind::Buffered { data, trailers } => data.is_none() && trailers.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } => body.size_hint(),
            Kind::Buffered { data, .. } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
        }
    }
}

/// True when the request's body is `application/x-www-form-urlencoded`.
pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| {
            essence
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The whole body (data and trailers), refused past `limit` bytes without reading further.
pub(crate) async fn read<B: Body<Data = Bytes>>(
    body: B,
    limit: usize,
) -> Result<(Bytes, Option<HeaderMap>), CrossSiteRejectionKind> {
    if body.size_hint().lower() > limit as u64 {
        return Err(CrossSiteRejectionKind::BodyTooLarge);
    }
    let mut body = std::pin::pin!(body);
    let mut buf = BytesMut::new();
    let mut trailers: Option<HeaderMap> = None;
    while let Some(frame) = poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        let Ok(frame) = frame else {
            return Err(CrossSiteRejectionKind::BodyUnreadable);
        };
        match frame.into_data() {
            Ok(data) => {
                if buf.len() + data.len() > limit {
                    return Err(CrossSiteRejectionKind::BodyTooLarge);
                }
                buf.extend_from_slice(&data);
            }
            Err(frame) => {
                if let Ok(t) = frame.into_trailers() {
                    trailers.get_or_insert_with(HeaderMap::new).extend(t);
                }
            }
        }
    }
    Ok((buf.freeze(), trailers))
}

/// The value of the first field `name` in a `application/x-www-form-urlencoded` body, decoded
/// as the URL standard does (`+` is a space, `%XX` a byte, a malformed `%` kept as is).
pub(crate) fn form_value(body: &[u8], name: &str) -> Option<Vec<u8>> {
    body.split(|&b| b == b'&').find_map(|pair| {
        let (k, v) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        (decode(k) == name.as_bytes()).then(|| decode(v))
    })
}

fn decode(s: &[u8]) -> Vec<u8> {
    fn hex(b: u8) -> Option<u8> {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < s.len() => match (hex(s[i + 1]), hex(s[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_field_decoded() {
        let body = b"a=1&csrf_token=ab%2Dc+d&csrf_token=second&x";
        assert_eq!(form_value(body, "csrf_token").unwrap(), b"ab-c d");
        assert_eq!(form_value(b"csrf%5Ftoken=v", "csrf_token").unwrap(), b"v");
        assert_eq!(form_value(b"csrf_token", "csrf_token").unwrap(), b"");
        assert_eq!(form_value(b"x=%zz%4", "x").unwrap(), b"%zz%4");
        assert_eq!(form_value(b"x=%41", "x").unwrap(), b"A");
        assert_eq!(form_value(b"other=1", "csrf_token"), None);
        assert_eq!(form_value(b"", "csrf_token"), None);
    }

    #[test]
    fn recognises_form_content_types() {
        let mut h = HeaderMap::new();
        assert!(!is_form(&h));
        h.insert(
            header::CONTENT_TYPE,
            "Application/X-WWW-Form-Urlencoded; charset=utf-8"
                .parse()
                .unwrap(),
        );
        assert!(is_form(&h));
        h.insert(header::CONTENT_TYPE, "multipart/form-data".parse().unwrap());
        assert!(!is_form(&h));
    }
}
