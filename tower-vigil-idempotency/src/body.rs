//! The body types of the layer: [`RequestBody`], what the inner service receives, and
//! [`IdempotencyBody`], the inner part of what the layer answers with.
//!
//! Requests that carry an `Idempotency-Key` are buffered (to fingerprint them) and handed on
//! as one chunk; every other request streams through untouched. Both are one type, so the
//! inner service sees a single body type; it implements `http_body::Body<Data = Bytes>`, which
//! is all an axum `Router` (or any hyper service) needs.
//!
//! ```
//! use bytes::Bytes;
//! use http_body_util::BodyExt;
//! use tower_vigil_idempotency::RequestBody;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let body: RequestBody<http_body_util::Empty<Bytes>> = RequestBody::buffered(Bytes::from_static(b"{}"));
//! assert_eq!(body.collect().await.unwrap().to_bytes(), "{}");
//! # }
//! ```

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use crate::stream::{BoxError, Streamed};

pin_project! {
    /// The request body the inner service receives: the buffered body of a request with an
    /// `Idempotency-Key`, or the original streaming body.
    #[derive(Debug)]
    pub struct RequestBody<B> {
        #[pin]
        kind: ReqKind<B>,
    }
}

pin_project! {
    #[project = ReqKindProj]
    #[derive(Debug)]
    enum ReqKind<B> {
        Buffered { data: Option<Bytes> },
        Streaming { #[pin] body: B },
    }
}

impl<B> RequestBody<B> {
    /// A complete, buffered body.
    pub fn buffered(data: Bytes) -> Self {
        Self {
            kind: ReqKind::Buffered {
                data: (!data.is_empty()).then_some(data),
            },
        }
    }

    /// The original body, passed through.
    pub fn streaming(body: B) -> Self {
        Self {
            kind: ReqKind::Streaming { body },
        }
    }
}

impl<B: Body<Data = Bytes>> Body for RequestBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project().kind.project() {
            ReqKindProj::Buffered { data } => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            ReqKindProj::Streaming { body } => body.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            ReqKind::Buffered { data } => data.is_none(),
            ReqKind::Streaming { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            ReqKind::Buffered { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            ReqKind::Streaming { body } => body.size_hint(),
        }
    }
}

pin_project! {
    /// A response body from the inner service: passed through, captured whole (then replayed
    /// from memory, trailers included), captured in part when it outgrew the capture limit
    /// (the captured part first, then the rest of the stream), or streamed from the
    /// handler's task frame by frame as the handler produces them.
    pub struct IdempotencyBody<B: Body> {
        #[pin]
        kind: ResKind<B>,
    }
}

pin_project! {
    #[project = ResKindProj]
    enum ResKind<B: Body> {
        Inner { #[pin] body: B },
        Complete { data: Option<Bytes>, trailers: Option<HeaderMap> },
        Partial { data: Option<Bytes>, rest: Pin<Box<B>> },
        Failed { data: Option<Bytes>, error: Option<B::Error> },
        Streamed { stream: Streamed },
    }
}

impl<B: Body> IdempotencyBody<B> {
    pub(crate) fn inner(body: B) -> Self {
        Self {
            kind: ResKind::Inner { body },
        }
    }

    pub(crate) fn complete(data: Bytes, trailers: Option<HeaderMap>) -> Self {
        Self {
            kind: ResKind::Complete {
                data: (!data.is_empty()).then_some(data),
                trailers,
            },
        }
    }

    pub(crate) fn partial(data: Bytes, rest: Pin<Box<B>>) -> Self {
        Self {
            kind: ResKind::Partial {
                data: (!data.is_empty()).then_some(data),
                rest,
            },
        }
    }

    pub(crate) fn failed(data: Bytes, error: B::Error) -> Self {
        Self {
            kind: ResKind::Failed {
                data: (!data.is_empty()).then_some(data),
                error: Some(error),
            },
        }
    }

    pub(crate) fn streamed(stream: Streamed) -> Self {
        Self {
            kind: ResKind::Streamed { stream },
        }
    }
}

impl<B: Body> std::fmt::Debug for IdempotencyBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.kind {
            ResKind::Inner { .. } => "Inner",
            ResKind::Complete { .. } => "Complete",
            ResKind::Partial { .. } => "Partial",
            ResKind::Failed { .. } => "Failed",
            ResKind::Streamed { .. } => "Streamed",
        };
        f.debug_struct("IdempotencyBody")
            .field("kind", &kind)
            .finish()
    }
}

impl<B> Body for IdempotencyBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.project().kind.project() {
            ResKindProj::Inner { body } => body.poll_frame(cx).map_err(Into::into),
            ResKindProj::Complete { data, trailers } => Poll::Ready(match data.take() {
                Some(d) => Some(Ok(Frame::data(d))),
                None => trailers.take().map(|t| Ok(Frame::trailers(t))),
            }),
            ResKindProj::Partial { data, rest } => match data.take() {
                Some(d) => Poll::Ready(Some(Ok(Frame::data(d)))),
                None => rest.as_mut().poll_frame(cx).map_err(Into::into),
            },
            ResKindProj::Failed { data, error } => Poll::Ready(match data.take() {
                Some(d) => Some(Ok(Frame::data(d))),
                None => error.take().map(|e| Err(e.into())),
            }),
            ResKindProj::Streamed { stream } => stream.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            ResKind::Inner { body } => body.is_end_stream(),
            ResKind::Complete { data, trailers } => data.is_none() && trailers.is_none(),
            ResKind::Partial { data, rest } => data.is_none() && rest.is_end_stream(),
            ResKind::Failed { data, error } => data.is_none() && error.is_none(),
            ResKind::Streamed { stream } => stream.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            ResKind::Inner { body } => body.size_hint(),
            ResKind::Complete { data, .. } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            ResKind::Partial { data, rest } => {
                let head = data.as_ref().map_or(0, |d| d.len() as u64);
                let r = rest.size_hint();
                let mut hint = SizeHint::new();
                hint.set_lower(r.lower().saturating_add(head));
                if let Some(u) = r.upper() {
                    hint.set_upper(u.saturating_add(head));
                }
                hint
            }
            ResKind::Failed { .. } => SizeHint::default(),
            ResKind::Streamed { stream } => stream.size_hint(),
        }
    }
}
