//! The pieces every record encoding shares: the magic, the length-checked reader and the
//! decoding error.

use std::fmt;

use http::{HeaderMap, HeaderName, HeaderValue};

/// The first bytes of every record.
pub(crate) const MAGIC: &[u8; 3] = b"VIR";

/// The most headers room is made for before they are read (more than a response usually has).
const PREALLOCATED_HEADERS: usize = 32;

/// A stored value that is not a record this version can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub(crate) &'static str);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unreadable idempotency record: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

/// A cursor over a stored value that checks every length before it reads.
pub(crate) struct Reader<'a>(pub(crate) &'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.0.len() < n {
            return Err(DecodeError("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    pub(crate) fn headers(&mut self) -> Result<HeaderMap, DecodeError> {
        let count = self.u16()?;
        // The count is read from stored bytes, so it sizes nothing up front: past about
        // 24 000 `with_capacity` panics. A map grows as the headers actually decode, and one
        // that cannot hold them (more distinct names than `http` allows) is an error.
        let mut headers = HeaderMap::with_capacity(usize::from(count).min(PREALLOCATED_HEADERS));
        for _ in 0..count {
            let n = usize::from(self.u16()?);
            let name = HeaderName::from_bytes(self.take(n)?)
                .map_err(|_| DecodeError("invalid header name"))?;
            let n = usize::from(self.u16()?);
            let value = HeaderValue::from_bytes(self.take(n)?)
                .map_err(|_| DecodeError("invalid header value"))?;
            headers
                .try_append(name, value)
                .map_err(|_| DecodeError("too many headers"))?;
        }
        Ok(headers)
    }

    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}
