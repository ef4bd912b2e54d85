//! [`ValidUntil`]: when a key expires, read from Unix seconds or an RFC 3339 timestamp.
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use tower_vigil_apikey::ValidUntil;
//!
//! let v = ValidUntil::parse_rfc3339("2030-01-01T02:00:00+02:00").unwrap();
//! assert_eq!(v, ValidUntil::from_unix_seconds(1_893_456_000));
//! assert!(v.is_past(UNIX_EPOCH + Duration::from_secs(1_893_456_000)));
//! ```

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instant a key expires at, in whole Unix seconds. Deserialises from an integer (Unix
/// seconds) or an RFC 3339 string (`2030-01-01T00:00:00Z`, `…+02:00`, fractions ignored);
/// serialises as Unix seconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ValidUntil(i64);

impl ValidUntil {
    /// The instant `secs` seconds after the Unix epoch.
    pub const fn from_unix_seconds(secs: i64) -> Self {
        Self(secs)
    }

    /// Seconds since the Unix epoch.
    pub const fn unix_seconds(self) -> i64 {
        self.0
    }

    /// `d` after `now`, rounded down to the second.
    pub fn after(now: SystemTime, d: Duration) -> Self {
        Self(unix_seconds(now).saturating_add(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)))
    }

    /// Parses an RFC 3339 timestamp.
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        parse_rfc3339(s).map(Self)
    }

    /// True once `now` has reached this instant.
    pub fn is_past(self, now: SystemTime) -> bool {
        unix_seconds(now) >= self.0
    }
}

impl fmt::Debug for ValidUntil {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ValidUntil({})", self.0)
    }
}

impl Serialize for ValidUntil {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

impl<'de> Deserialize<'de> for ValidUntil {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Secs(i64),
            Text(String),
        }
        match Repr::deserialize(d)? {
            Repr::Secs(s) => Ok(Self(s)),
            Repr::Text(t) => Self::parse_rfc3339(&t).ok_or_else(|| {
                serde::de::Error::custom(format!("not an RFC 3339 timestamp: {t:?}"))
            }),
        }
    }
}

fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// `YYYY-MM-DD[Tt ]HH:MM:SS[.frac](Z|z|±HH:MM)` to Unix seconds.
fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest.as_bytes() {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            // `rest` is the last six characters of `s`: `±HH:MM`.
            let oh = num(s.len() - 5..s.len() - 3)?;
            let om = num(s.len() - 2..s.len())?;
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_parses_to_unix_seconds() {
        let p = |s| ValidUntil::parse_rfc3339(s).map(ValidUntil::unix_seconds);
        assert_eq!(p("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(p("2030-01-01T00:00:00Z"), Some(1_893_456_000));
        assert_eq!(p("2024-02-29T12:30:15.123Z"), Some(1_709_209_815));
        assert_eq!(p("2024-02-29T14:30:15+02:00"), Some(1_709_209_815));
        assert_eq!(p("2024-02-29T10:00:15-02:30"), Some(1_709_209_815));
        assert_eq!(p("2023-02-29T00:00:00Z"), None);
        assert_eq!(p("2024-13-01T00:00:00Z"), None);
        assert_eq!(p("2024-01-01T00:00:00"), None);
        assert_eq!(p("2024-01-01T00:00:00.Z"), None);
        assert_eq!(p("2024-01-01T00:00:00+2:00"), None);
        assert_eq!(p("not a date at all!!"), None);
    }

    proptest::proptest! {
        #[test]
        fn rfc3339_parser_never_panics(s in "\\PC{0,40}") {
            let _ = ValidUntil::parse_rfc3339(&s);
        }

        #[test]
        fn rfc3339_round_trips_valid_dates(
            y in 1970i64..2400, mo in 1i64..=12, d in 1i64..=28, h in 0i64..24, mi in 0i64..60, sec in 0i64..60,
        ) {
            let s = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{sec:02}Z");
            let v = ValidUntil::parse_rfc3339(&s).unwrap().unix_seconds();
            // Count the days the slow way, independently of `days_from_civil`.
            let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let mut days: i64 = (1970..y).map(|y| if leap(y) { 366 } else { 365 }).sum();
            days += (1..mo).map(|m| days_in_month(y, m)).sum::<i64>() + d - 1;
            proptest::prop_assert_eq!(v, days * 86_400 + h * 3600 + mi * 60 + sec);
            let shifted = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{sec:02}+01:30");
            proptest::prop_assert_eq!(ValidUntil::parse_rfc3339(&shifted).unwrap().unix_seconds(), v - 5400);
        }
    }
}
