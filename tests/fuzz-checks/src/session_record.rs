//! The session record as the store decodes the load script's reply (tower-vigil-session
//! `store/record.rs` and `store/session.rs`): whatever `HGETALL` returns, decoding never panics, refuses
//! an odd reply or a non-UTF-8 field name, drops the secret, and reads every field as it was
//! stored; the TTL arithmetic stays within the idle, absolute and index deadlines.

use std::collections::BTreeMap;

use arbitrary::Unstructured;
use tower_vigil_session::__fuzz::{
    ABSOLUTE_FIELD, CREATED_FIELD, DATA_PREFIX, DEADLINE_FIELD, Expiry, LAST_FIELD, SECRET_FIELD,
    USER_FIELD, stored_session_from_reply,
};

/// The first bytes are the clock, the `PTTL` and an expiry to check; the rest, cut at NUL
/// bytes, is the flat `HGETALL` reply (field, value, field, value…).
pub fn check(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let (Ok(now), Ok(ttl)) = (u.arbitrary::<i64>(), u.arbitrary::<i64>()) else {
        return;
    };
    let expiry: [u64; 5] = u.arbitrary().unwrap_or_default();
    check_expiry(expiry);
    let rest = u.take_rest();
    let flat: Vec<Vec<u8>> = if rest.is_empty() {
        Vec::new()
    } else {
        rest.split(|&b| b == 0).map(<[u8]>::to_vec).collect()
    };
    let decoded = stored_session_from_reply(now, ttl, flat.clone());
    let names_ok = flat.chunks(2).all(|kv| std::str::from_utf8(&kv[0]).is_ok());
    if flat.len() % 2 == 1 || !names_ok {
        assert!(decoded.is_err(), "an odd reply or a non-UTF-8 name decoded");
        return;
    }
    let s = decoded.expect("an even reply of UTF-8 names decodes");
    // What HGETALL said, the last value winning (a real reply never repeats a field).
    let mut fields = BTreeMap::new();
    for kv in flat.chunks(2) {
        fields.insert(
            String::from_utf8(kv[0].clone()).expect("checked"),
            kv[1].clone(),
        );
    }
    fields.remove(SECRET_FIELD);
    let raw: BTreeMap<String, Vec<u8>> = s
        .raw_fields()
        .iter()
        .map(|(k, v)| (k.clone(), v.to_vec()))
        .collect();
    assert_eq!(raw, fields, "the secret is dropped, everything else kept");
    for (k, v) in s.data() {
        assert_eq!(
            fields.get(&format!("{DATA_PREFIX}{k}")).map(Vec::as_slice),
            Some(v.as_ref())
        );
    }
    let data_fields = fields.keys().filter(|k| k.starts_with(DATA_PREFIX)).count();
    assert_eq!(s.data().len(), data_fields);
    let number = |f: &str| {
        fields
            .get(f)
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    assert_eq!(s.created_ms(), number(CREATED_FIELD));
    assert_eq!(s.last_activity_ms(), number(LAST_FIELD));
    assert_eq!(s.absolute_at_ms(), number(ABSOLUTE_FIELD));
    assert_eq!(s.index_deadline_ms(), number(DEADLINE_FIELD));
    assert_eq!(
        s.user_id(),
        fields
            .get(USER_FIELD)
            .and_then(|v| std::str::from_utf8(v).ok())
    );
    assert_eq!(s.now_ms(), u64::try_from(now).unwrap_or(0));
    assert_eq!(
        s.ttl().as_millis(),
        u128::from(u64::try_from(ttl).unwrap_or(0))
    );
}

/// `ttl_until` is at most the idle timeout, at least 1 ms, and never reaches past the
/// absolute expiry or the index deadline; `None` only once one of them has passed.
fn check_expiry([idle, absolute, now, absolute_at, deadline]: [u64; 5]) {
    let e = Expiry::new(idle, absolute);
    match e.ttl_until(now, absolute_at, deadline) {
        Some(t) => {
            assert!((1..=idle.max(1)).contains(&t), "{t} outside 1..={idle}");
            for at in [absolute_at, deadline] {
                assert!(at == 0 || u128::from(now) + u128::from(t) <= u128::from(at));
            }
        }
        None => assert!(
            [absolute_at, deadline]
                .iter()
                .any(|&at| at != 0 && at <= now)
        ),
    }
}
