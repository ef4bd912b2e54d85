//! [`StoredResponse`]: a captured response and its encoding.
//!
//! Layout (all integers big-endian): the magic `VIR`, a version byte (1), the status (u16), the
//! headers (a u16 count, then each name and value with a u16 length), the body with a u32
//! length, then a byte saying whether trailers follow (gRPC puts its status there) and, if so,
//! the trailers laid out like the headers. Decoding checks every length, so a truncated or
//! foreign value is an error (answered with a 500 and never a re-execution), not a wrong replay.

use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use super::wire::{DecodeError, MAGIC, Reader};

/// The kind-and-version byte of a response record.
pub(crate) const VERSION: u8 = 1;

/// A response as stored for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers kept (see the layer's capture rules).
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
    /// The trailers, if the body ended with some (gRPC's `grpc-status`).
    pub trailers: Option<HeaderMap>,
}

impl StoredResponse {
    /// A record.
    pub fn new(status: StatusCode, headers: HeaderMap, body: Bytes) -> Self {
        Self {
            status,
            headers,
            body,
            trailers: None,
        }
    }

    /// The record with `trailers`.
    #[must_use]
    pub fn with_trailers(mut self, trailers: Option<HeaderMap>) -> Self {
        self.trailers = trailers;
        self
    }

    /// The encoded record. Headers longer than 64 KiB or more than 65535 headers cannot
    /// occur in practice (hyper refuses far less); they are dropped rather than truncated.
    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(16 + self.body.len() + 64 * self.headers.len());
        out.put_slice(MAGIC);
        out.put_u8(VERSION);
        out.put_u16(self.status.as_u16());
        put_headers(&mut out, &self.headers);
        out.put_u32(u32::try_from(self.body.len()).unwrap_or(u32::MAX));
        out.put_slice(&self.body);
        match &self.trailers {
            None => out.put_u8(0),
            Some(t) => {
                out.put_u8(1);
                put_headers(&mut out, t);
            }
        }
        out.freeze()
    }

    /// Reads a record written by [`encode`](Self::encode).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader(bytes);
        if r.take(3)? != MAGIC {
            return Err(DecodeError("not a tower-vigil record"));
        }
        if r.take(1)?[0] != VERSION {
            return Err(DecodeError("unknown record version"));
        }
        let status = StatusCode::from_u16(r.u16()?).map_err(|_| DecodeError("invalid status"))?;
        let headers = r.headers()?;
        let n = r.u32()? as usize;
        let body = Bytes::copy_from_slice(r.take(n)?);
        let trailers = match r.take(1)?[0] {
            0 => None,
            1 => Some(r.headers()?),
            _ => return Err(DecodeError("invalid trailer flag")),
        };
        if !r.0.is_empty() {
            return Err(DecodeError("trailing bytes"));
        }
        Ok(Self::new(status, headers, body).with_trailers(trailers))
    }
}

/// A u16 count then each name and value with a u16 length. Fields over 64 KiB or beyond the
/// 65535th cannot occur in practice (hyper refuses far less); they are dropped, not truncated.
fn put_headers(out: &mut BytesMut, headers: &HeaderMap) {
    let kept: Vec<(&HeaderName, &HeaderValue)> = headers
        .iter()
        .filter(|(n, v)| n.as_str().len() <= 0xffff && v.len() <= 0xffff)
        .take(0xffff)
        .collect();
    out.put_u16(kept.len() as u16);
    for (name, value) in kept {
        out.put_u16(name.as_str().len() as u16);
        out.put_slice(name.as_str().as_bytes());
        out.put_u16(value.len() as u16);
        out.put_slice(value.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> StoredResponse {
        let mut h = HeaderMap::new();
        h.append("x-a", HeaderValue::from_static("1"));
        h.append("x-a", HeaderValue::from_static("2"));
        h.insert("content-type", HeaderValue::from_static("text/plain"));
        StoredResponse::new(StatusCode::ACCEPTED, h, Bytes::from_static(b"hello"))
    }

    #[test]
    fn round_trips_with_repeated_headers() {
        let rec = sample();
        let back = StoredResponse::decode(&rec.encode()).unwrap();
        assert_eq!(back, rec);
        assert_eq!(back.headers.get_all("x-a").iter().count(), 2);
    }

    #[test]
    fn trailers_round_trip() {
        let mut t = HeaderMap::new();
        t.insert("grpc-status", HeaderValue::from_static("0"));
        let rec = sample().with_trailers(Some(t));
        assert_eq!(StoredResponse::decode(&rec.encode()).unwrap(), rec);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = sample().encode();
        for n in 0..bytes.len() {
            assert!(StoredResponse::decode(&bytes[..n]).is_err(), "prefix {n}");
        }
        let mut longer = bytes.to_vec();
        longer.push(0);
        assert!(StoredResponse::decode(&longer).is_err());
    }

    #[test]
    fn other_versions_are_refused() {
        let mut bytes = sample().encode().to_vec();
        bytes[3] = 2;
        assert_eq!(
            StoredResponse::decode(&bytes),
            Err(DecodeError("unknown record version"))
        );
    }

    /// Found by the `idempotency_record` fuzz target (issue 13): the header count of a stored
    /// value sized the map up front, and `HeaderMap::with_capacity` panics above about 24 000,
    /// so a corrupt or foreign value in the store crashed the request instead of being
    /// refused; more distinct names than a map can hold panicked on insert the same way.
    #[test]
    fn a_huge_header_count_is_an_error_not_a_panic() {
        let mut bytes = b"VIR\x01\x00\xc8\xff\xff".to_vec();
        assert_eq!(
            StoredResponse::decode(&bytes),
            Err(DecodeError("truncated"))
        );
        bytes.truncate(6);
        bytes.extend_from_slice(&40_000u16.to_be_bytes());
        for i in 0..40_000u32 {
            let name = format!("h{i}");
            bytes.extend_from_slice(&u16::try_from(name.len()).unwrap().to_be_bytes());
            bytes.extend_from_slice(name.as_bytes());
            bytes.extend_from_slice(&0u16.to_be_bytes());
        }
        bytes.extend_from_slice(&[0, 0, 0, 0, 0]);
        assert_eq!(
            StoredResponse::decode(&bytes),
            Err(DecodeError("too many headers"))
        );
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = StoredResponse::decode(&bytes);
        }

        #[test]
        fn round_trips(status in 200u16..600, body in proptest::collection::vec(any::<u8>(), 0..512),
                       values in proptest::collection::vec("[ -~]{0,40}", 0..5)) {
            let mut h = HeaderMap::new();
            for v in &values {
                h.append("x-v", HeaderValue::from_str(v).unwrap());
            }
            let rec = StoredResponse::new(StatusCode::from_u16(status).unwrap(), h, body.into());
            prop_assert_eq!(StoredResponse::decode(&rec.encode()).unwrap(), rec);
        }
    }
}
