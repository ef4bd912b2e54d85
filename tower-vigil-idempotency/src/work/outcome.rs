//! What a completed unit of work leaves behind: [`Done`] (the outcome, and whether this call
//! ran the work or found it done) and [`JobOutcome`], how an outcome is kept as bytes.

use std::convert::Infallible;

use bytes::Bytes;

/// The outcome of a unit of work, from this run or from the one that completed it first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done<T> {
    outcome: T,
    replayed: bool,
}

impl<T> Done<T> {
    pub(crate) fn ran(outcome: T) -> Self {
        Self {
            outcome,
            replayed: false,
        }
    }

    pub(crate) fn replayed(outcome: T) -> Self {
        Self {
            outcome,
            replayed: true,
        }
    }

    /// True when the work had completed before (this call ran nothing and returns the stored
    /// outcome); false when this call ran it.
    pub fn is_replayed(&self) -> bool {
        self.replayed
    }

    /// The outcome.
    pub fn outcome(&self) -> &T {
        &self.outcome
    }

    /// The outcome, taken out.
    pub fn into_outcome(self) -> T {
        self.outcome
    }
}

/// How an outcome is stored and read back. Implemented for `()`, [`Bytes`], `Vec<u8>` and
/// [`String`]; implement it for your own type with any encoding (serde_json, bincode, ...).
/// A stored outcome that [`decode`](Self::decode) refuses is a
/// [`Corrupt`](crate::work::WorkErrorKind::Corrupt) error, never a second run.
pub trait JobOutcome: Sized {
    /// Why stored bytes are not an outcome.
    type DecodeError: std::fmt::Display;

    /// The bytes to store.
    fn encode(&self) -> Bytes;

    /// The outcome from stored bytes.
    fn decode(stored: Bytes) -> Result<Self, Self::DecodeError>;
}

impl JobOutcome for () {
    type DecodeError = Infallible;

    fn encode(&self) -> Bytes {
        Bytes::new()
    }

    fn decode(_: Bytes) -> Result<Self, Infallible> {
        Ok(())
    }
}

impl JobOutcome for Bytes {
    type DecodeError = Infallible;

    fn encode(&self) -> Bytes {
        self.clone()
    }

    fn decode(stored: Bytes) -> Result<Self, Infallible> {
        Ok(stored)
    }
}

impl JobOutcome for Vec<u8> {
    type DecodeError = Infallible;

    fn encode(&self) -> Bytes {
        Bytes::copy_from_slice(self)
    }

    fn decode(stored: Bytes) -> Result<Self, Infallible> {
        Ok(stored.to_vec())
    }
}

impl JobOutcome for String {
    type DecodeError = std::string::FromUtf8Error;

    fn encode(&self) -> Bytes {
        Bytes::copy_from_slice(self.as_bytes())
    }

    fn decode(stored: Bytes) -> Result<Self, Self::DecodeError> {
        String::from_utf8(stored.to_vec())
    }
}
