//! The idempotency record (tower-vigil-idempotency `record/`), what a completed key holds in
//! the store: whatever bytes the store returns, decoding never panics and what decodes
//! re-encodes to a record that decodes the same; any response (status, repeated headers,
//! body, trailers) round-trips.

use arbitrary::Unstructured;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use tower_vigil_idempotency::__fuzz::{NotReplayable, NotReplayableReason, Record, StoredResponse};

/// Decodes `data` as a stored record, then builds records from `data` and round-trips them.
pub fn check(data: &[u8]) {
    if let Ok(record) = Record::decode(data) {
        assert_eq!(Record::decode(&record.encode()).as_ref(), Ok(&record));
        if let Record::Response(r) = &record {
            assert_eq!(StoredResponse::decode(data).as_ref(), Ok(r.as_ref()));
        }
    }
    if let Ok(response) = StoredResponse::decode(data) {
        assert_eq!(
            StoredResponse::decode(&response.encode()).as_ref(),
            Ok(&response)
        );
    }
    let mut u = Unstructured::new(data);
    let Ok(record) = record(&mut u) else { return };
    let bytes = record.encode();
    assert_eq!(Record::decode(&bytes).as_ref(), Ok(&record));
    for n in 0..bytes.len() {
        assert!(
            Record::decode(&bytes[..n]).is_err(),
            "a truncation to {n} bytes decoded"
        );
    }
}

fn record(u: &mut Unstructured<'_>) -> arbitrary::Result<Record> {
    let status = StatusCode::from_u16(u.int_in_range(100..=999)?).expect("100 to 999");
    if u.ratio(1, 4)? {
        let reason = if u.arbitrary()? {
            NotReplayableReason::TooLarge
        } else {
            NotReplayableReason::BodyFailed
        };
        return Ok(Record::NotReplayable(NotReplayable::new(status, reason)));
    }
    let headers = headers_of(u)?;
    let trailers = if u.arbitrary()? {
        Some(headers_of(u)?)
    } else {
        None
    };
    let body: Vec<u8> = u.arbitrary()?;
    let r = StoredResponse::new(status, headers, Bytes::from(body)).with_trailers(trailers);
    Ok(Record::Response(Box::new(r)))
}

/// Up to 8 headers, names from a small set so that some repeat.
fn headers_of(u: &mut Unstructured<'_>) -> arbitrary::Result<HeaderMap> {
    const NAMES: [&str; 4] = ["content-type", "x-a", "grpc-status", "etag"];
    let mut h = HeaderMap::new();
    for _ in 0..u.int_in_range(0..=8)? {
        let name = HeaderName::from_static(NAMES[u.choose_index(NAMES.len())?]);
        let raw: Vec<u8> = u.arbitrary()?;
        let value: Vec<u8> = raw
            .into_iter()
            .filter(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
            .collect();
        if let Ok(v) = HeaderValue::from_bytes(&value) {
            h.append(name, v);
        }
    }
    Ok(h)
}
