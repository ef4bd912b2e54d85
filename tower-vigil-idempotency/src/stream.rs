//! The channel that carries a streamed response body from the handler's task to the client.
//!
//! The handler's body is read on the handler's task (so its outcome is recorded even when
//! the client goes away); each frame is sent through a one-slot channel, which gives the
//! handler the client's backpressure. The client's side ends cleanly only on an explicit end
//! message: if the task dies first (a panic, a runtime shutting down) the client sees an
//! error, never a silently truncated body.

use std::fmt;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Frame, SizeHint};
use tokio::sync::mpsc;

/// The error of an [`IdempotencyBody`](crate::IdempotencyBody): the inner body's error,
/// boxed, or the layer's own when the handler's task ended before the body did.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

enum Msg {
    Frame(Frame<Bytes>),
    Error(BoxError),
    End,
}

/// A forwarding channel whose client side reports `hint` (the handler body's size hint).
pub(crate) fn channel(hint: SizeHint) -> (Forward, Streamed) {
    let (tx, rx) = mpsc::channel(1);
    (
        Forward { tx: Some(tx) },
        Streamed {
            rx,
            hint,
            done: false,
        },
    )
}

/// The task's side: frames in, until the end or an error.
pub(crate) struct Forward {
    /// `None` once the client has gone.
    tx: Option<mpsc::Sender<Msg>>,
}

impl Forward {
    /// Sends `frame` to the client, waiting for it to take the previous one. Does nothing
    /// once the client has gone.
    pub(crate) async fn send(&mut self, frame: Frame<Bytes>) {
        self.push(Msg::Frame(frame)).await;
    }

    /// True once the client dropped the body.
    pub(crate) fn client_gone(&self) -> bool {
        self.tx.is_none()
    }

    /// Ends the body, after `trailers` if any.
    pub(crate) async fn end(mut self, trailers: Option<HeaderMap>) {
        if let Some(t) = trailers {
            self.push(Msg::Frame(Frame::trailers(t))).await;
        }
        self.push(Msg::End).await;
    }

    /// Ends the body with `error`.
    pub(crate) async fn fail(mut self, error: BoxError) {
        self.push(Msg::Error(error)).await;
    }

    async fn push(&mut self, msg: Msg) {
        if let Some(tx) = &self.tx
            && tx.send(msg).await.is_err()
        {
            self.tx = None;
        }
    }
}

/// The client's side of a streamed response body.
pub(crate) struct Streamed {
    rx: mpsc::Receiver<Msg>,
    hint: SizeHint,
    done: bool,
}

impl Streamed {
    pub(crate) fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.done {
            return Poll::Ready(None);
        }
        let msg = ready!(self.rx.poll_recv(cx));
        Poll::Ready(match msg {
            Some(Msg::Frame(frame)) => {
                if let Some(data) = frame.data_ref() {
                    self.consumed(data.len() as u64);
                }
                Some(Ok(frame))
            }
            Some(Msg::Error(e)) => {
                self.done = true;
                Some(Err(e))
            }
            Some(Msg::End) => {
                self.done = true;
                None
            }
            None => {
                self.done = true;
                Some(Err(Box::new(Interrupted)))
            }
        })
    }

    pub(crate) fn is_end_stream(&self) -> bool {
        self.done
    }

    pub(crate) fn size_hint(&self) -> SizeHint {
        if self.done {
            SizeHint::with_exact(0)
        } else {
            self.hint
        }
    }

    /// What is left to come shrinks by each chunk handed out.
    fn consumed(&mut self, n: u64) {
        let lower = self.hint.lower().saturating_sub(n);
        let upper = self.hint.upper().map(|u| u.saturating_sub(n));
        let mut hint = SizeHint::new();
        if let Some(u) = upper {
            hint.set_upper(u);
        }
        hint.set_lower(lower.min(upper.unwrap_or(u64::MAX)));
        self.hint = hint;
    }
}

/// The handler's task ended before the response body did.
#[derive(Debug)]
struct Interrupted;

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the idempotent handler's task ended before its response body")
    }
}

impl std::error::Error for Interrupted {}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll(s: &mut Streamed) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        s.poll_frame(&mut Context::from_waker(std::task::Waker::noop()))
    }

    #[tokio::test]
    async fn a_dropped_sender_is_an_error_not_a_clean_end() {
        let (mut forward, mut stream) = channel(SizeHint::with_exact(4));
        forward.send(Frame::data(Bytes::from_static(b"ab"))).await;
        assert!(matches!(poll(&mut stream), Poll::Ready(Some(Ok(_)))));
        assert_eq!(stream.size_hint().exact(), Some(2));
        drop(forward);
        assert!(matches!(poll(&mut stream), Poll::Ready(Some(Err(_)))));
        assert!(matches!(poll(&mut stream), Poll::Ready(None)));
    }

    #[tokio::test]
    async fn a_dropped_client_is_noticed() {
        let (mut forward, stream) = channel(SizeHint::new());
        drop(stream);
        forward.send(Frame::data(Bytes::from_static(b"ab"))).await;
        assert!(forward.client_gone());
    }
}
