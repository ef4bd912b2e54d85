//! [`ApiKeyData`]: what a key grants, as the [`KeyStore`](crate::KeyStore) returns it and the
//! caches keep it; and [`ValidUntil`], its expiry.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use tower_vigil_apikey::{ApiKeyData, ValidUntil};
//!
//! #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
//! struct Plan {
//!     plan: String,
//! }
//!
//! // Your own fields sit beside the standard ones (serde `flatten`).
//! let json = r#"{"id":"k-demo","user_id":"u-1","organization_id":"org-9",
//!     "permissions":["analyze"],"rate_limit":100,
//!     "valid_until":"2030-01-01T00:00:00Z","plan":"pro"}"#;
//! let data: ApiKeyData<Plan> = serde_json::from_str(json).unwrap();
//! assert!(data.has_permission("analyze"));
//! assert_eq!(data.valid_until, Some(ValidUntil::from_unix_seconds(1_893_456_000)));
//! assert_eq!(data.extra.plan, "pro");
//! ```

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use tower_vigil_core::Principal;

/// What an API key grants. `T` carries fields of your own, flattened beside the standard ones
/// in the serialised form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyData<T = ()> {
    /// The key's id (never the key itself): what rate limits and revocation name it by.
    pub id: String,
    /// The user the key belongs to.
    pub user_id: String,
    /// The organisation the key belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// What the key may do; routes check them with
    /// [`RequirePermissionLayer`](crate::RequirePermissionLayer).
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Requests per minute this key may make, for a rate-limit layer to read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<u64>,
    /// When the key stops being accepted (401 from then on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<ValidUntil>,
    /// Your own fields.
    #[serde(flatten)]
    pub extra: T,
}

impl ApiKeyData<()> {
    /// Key data with no permissions, no limit and no expiry.
    pub fn new(id: impl Into<String>, user_id: impl Into<String>) -> Self {
        Self::with_extra(id, user_id, ())
    }
}

impl<T> ApiKeyData<T> {
    /// Key data carrying your own `extra` fields.
    pub fn with_extra(id: impl Into<String>, user_id: impl Into<String>, extra: T) -> Self {
        Self {
            id: id.into(),
            user_id: user_id.into(),
            organization_id: None,
            permissions: Vec::new(),
            rate_limit: None,
            valid_until: None,
            extra,
        }
    }

    /// Sets the organisation.
    #[must_use]
    pub fn organization(mut self, organization_id: impl Into<String>) -> Self {
        self.organization_id = Some(organization_id.into());
        self
    }

    /// Adds a permission.
    #[must_use]
    pub fn permission(mut self, permission: impl Into<String>) -> Self {
        self.permissions.push(permission.into());
        self
    }

    /// Sets the per-key rate limit.
    #[must_use]
    pub fn rate_limit(mut self, per_minute: u64) -> Self {
        self.rate_limit = Some(per_minute);
        self
    }

    /// Sets the expiry.
    #[must_use]
    pub fn valid_until(mut self, until: ValidUntil) -> Self {
        self.valid_until = Some(until);
        self
    }

    /// True when the key grants `permission`.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }

    /// True when the key has expired at `now`.
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        self.valid_until.is_some_and(|v| v.is_past(now))
    }

    /// The [`Principal`] the layer puts into request extensions for this key.
    pub fn principal(&self) -> Principal {
        let p = Principal::api_key(&self.id).with_user(&self.user_id);
        match &self.organization_id {
            Some(org) => p.with_organization(org),
            None => p,
        }
    }
}

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

    #[test]
    fn data_round_trips_and_accepts_both_expiry_forms() {
        let d = ApiKeyData::new("k", "u")
            .permission("read")
            .valid_until(ValidUntil::from_unix_seconds(10));
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<ApiKeyData>(&json).unwrap(), d);
        let text: ApiKeyData = serde_json::from_str(
            r#"{"id":"k","user_id":"u","valid_until":"1970-01-01T00:00:10Z"}"#,
        )
        .unwrap();
        assert_eq!(text.valid_until, d.valid_until);
        assert!(
            serde_json::from_str::<ApiKeyData>(r#"{"id":"k","user_id":"u","valid_until":"soon"}"#)
                .is_err()
        );
    }

    #[test]
    fn expiry_is_inclusive() {
        let d = ApiKeyData::new("k", "u").valid_until(ValidUntil::from_unix_seconds(100));
        assert!(!d.is_expired_at(UNIX_EPOCH + Duration::from_secs(99)));
        assert!(d.is_expired_at(UNIX_EPOCH + Duration::from_secs(100)));
    }

    #[test]
    fn principal_carries_ids() {
        let p = ApiKeyData::new("k-demo", "u-1")
            .organization("o-1")
            .principal();
        assert_eq!(p.id(), "k-demo");
        assert_eq!(p.user_id(), Some("u-1"));
        assert_eq!(p.organization_id(), Some("o-1"));
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
