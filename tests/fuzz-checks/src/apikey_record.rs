//! The API-key cache's shared (L2) record (tower-vigil-apikey `cache/record.rs`): whatever
//! bytes the backend holds, decoding never panics, and what decodes encodes back to the same
//! record; any key data encodes to a record that decodes to exactly that data.

use arbitrary::Unstructured;
use tower_vigil_apikey::__fuzz::{decode_record, encode_record};
use tower_vigil_apikey::{ApiKeyData, ValidUntil};

/// Decodes `data` as a stored record, then builds key data from `data` and round-trips it.
pub fn check(data: &[u8]) {
    if let Some(decoded) = decode_record::<()>(data) {
        let again = encode_record(decoded.as_ref()).expect("decoded data serialises");
        assert_eq!(
            decode_record::<()>(&again),
            Some(decoded),
            "{:?}",
            String::from_utf8_lossy(data)
        );
    }
    let mut u = Unstructured::new(data);
    let Ok(built) = key_data(&mut u) else { return };
    let bytes = encode_record(Some(&built)).expect("plain data serialises");
    assert_eq!(decode_record::<()>(&bytes), Some(Some(built)));
    let none = encode_record::<()>(None).expect("the negative record serialises");
    assert_eq!(decode_record::<()>(&none), Some(None));
}

fn key_data(u: &mut Unstructured<'_>) -> arbitrary::Result<ApiKeyData> {
    let mut d = ApiKeyData::new(u.arbitrary::<String>()?, u.arbitrary::<String>()?);
    d.organization_id = u.arbitrary()?;
    d.permissions = u.arbitrary()?;
    d.rate_limit = u.arbitrary()?;
    d.valid_until = u
        .arbitrary::<Option<i64>>()?
        .map(ValidUntil::from_unix_seconds);
    Ok(d)
}
