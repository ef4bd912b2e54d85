//! `valid_until` as RFC 3339 (tower-vigil-apikey `valid_until.rs`, and vigil-api's `time.rs`,
//! which reads the same field from its configuration): an accepted timestamp has the strict
//! shape and a date that exists, its value equals an independent computation, both parsers
//! agree, and formatting then parsing gives the value back.

use std::time::{Duration, UNIX_EPOCH};

use tower_vigil_apikey::ValidUntil;

/// 10000-01-01T00:00:00Z, the first instant RFC 3339 cannot write.
const YEAR_10000: i64 = 253_402_300_800;

/// Checks both parsers on `data` as a timestamp.
pub fn check(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let parsed = ValidUntil::parse_rfc3339(&s).map(ValidUntil::unix_seconds);
    let flagship = vigil_api::time::parse_rfc3339(&s).ok();
    assert_eq!(
        flagship, parsed,
        "vigil-api and tower-vigil-apikey disagree on {s:?}"
    );
    let json = serde_json::Value::String(s.clone().into_owned());
    let deserialized = serde_json::from_value::<ValidUntil>(json).ok();
    assert_eq!(deserialized.map(ValidUntil::unix_seconds), parsed);
    let Some(secs) = parsed else { return };
    assert_eq!(Some(secs), reference(s.as_bytes()), "{s:?}");
    let second = i64::from(s.as_bytes()[17] - b'0') * 10 + i64::from(s.as_bytes()[18] - b'0');
    // Formatting gives it back, within what RFC 3339 can write (years 0000 to 9999; an
    // offset can carry a 9999 timestamp past the end) and without a leap second.
    if second < 60
        && let Ok(since_epoch) = u64::try_from(secs)
        && secs < YEAR_10000
    {
        let formatted =
            vigil_api::time::format_rfc3339(UNIX_EPOCH + Duration::from_secs(since_epoch));
        assert_eq!(
            ValidUntil::parse_rfc3339(&formatted).map(ValidUntil::unix_seconds),
            Some(secs),
            "{formatted:?}"
        );
    }
    let back: ValidUntil = serde_json::from_value(serde_json::json!(secs)).expect("an integer");
    assert_eq!(back.unix_seconds(), secs);
}

/// The strict grammar and an independent day count: `None` for anything RFC 3339 refuses.
fn reference(b: &[u8]) -> Option<i64> {
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (h, mi, se) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&mo) || d < 1 || d > month_days[(mo - 1) as usize] {
        return None;
    }
    if h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &b[19..];
    if let [b'.', frac @ ..] = rest {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2]
            if [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()) =>
        {
            let oh = i64::from(h1 - b'0') * 10 + i64::from(h2 - b'0');
            let om = i64::from(m1 - b'0') * 10 + i64::from(m2 - b'0');
            if oh > 23 || om > 59 {
                return None;
            }
            if *sign == b'+' {
                oh * 3600 + om * 60
            } else {
                -(oh * 3600 + om * 60)
            }
        }
        _ => return None,
    };
    // Days since 0000-03-01 style algorithms are what the crates use; count instead: whole
    // years since year 0 (a leap year, proleptic Gregorian), then whole months.
    let leaps_before = |y: i64| {
        if y == 0 {
            0
        } else {
            1 + (y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400
        }
    };
    let days_before_year = |y: i64| 365 * y + leaps_before(y);
    let days = days_before_year(y) - days_before_year(1970)
        + month_days[..(mo - 1) as usize].iter().sum::<i64>()
        + d
        - 1;
    Some(days * 86_400 + h * 3600 + mi * 60 + se - offset)
}
