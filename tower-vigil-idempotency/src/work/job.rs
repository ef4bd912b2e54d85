//! [`Job`]: what a message must tell the [`ExactlyOnce`](super::ExactlyOnce) service: its
//! id, and the payload a reused id is checked against.

use std::borrow::Cow;

/// A message that names one unit of work. Two deliveries of one unit have the same
/// [`id`](Self::id) and the same [`payload`](Self::payload); a second unit under an id
/// already used (a payload that differs) is refused as a
/// [`Mismatch`](super::WorkErrorKind::Mismatch) rather than run or answered with the first
/// one's outcome.
pub trait Job {
    /// The unit's id: a message id set by the publisher (a JetStream `Nats-Msg-Id`, an
    /// outbox row's key), never one the broker assigns per delivery.
    fn id(&self) -> Cow<'_, str>;

    /// The bytes that make up the unit's content. By default none: any reuse of an id is
    /// then taken for a redelivery.
    fn payload(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&[])
    }
}

impl<T: Job + ?Sized> Job for &T {
    fn id(&self) -> Cow<'_, str> {
        (**self).id()
    }

    fn payload(&self) -> Cow<'_, [u8]> {
        (**self).payload()
    }
}
