//! RFC 3339 timestamps: parsing the config's `valid_until`, formatting `/me`'s times.

use std::time::{SystemTime, UNIX_EPOCH};

use tower_vigil_apikey::ValidUntil;

/// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` into Unix seconds, with the parser the
/// API-key layer reads `valid_until` with (one strict parser: a date that exists, digits
/// only, an offset within ±23:59, never a panic), so the file and the key store agree.
pub fn parse_rfc3339(s: &str) -> Result<i64, String> {
    ValidUntil::parse_rfc3339(s)
        .map(ValidUntil::unix_seconds)
        .ok_or_else(|| format!("{s:?} is not an RFC 3339 timestamp"))
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC.
pub fn format_rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn parses() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_rfc3339("2030-01-01T00:00:00Z"), Ok(1_893_456_000));
        assert_eq!(
            parse_rfc3339("2024-02-29T12:30:15.250+02:00"),
            Ok(1_709_202_615)
        );
        assert!(parse_rfc3339("2030-13-01T00:00:00Z").is_err());
        assert!(parse_rfc3339("tomorrow").is_err());
    }

    /// Found by the `valid_until` fuzz target (issue 13): this parser took a day up to 31 in
    /// any month, signs in the numbers, any offset, and panicked on a multi-byte character
    /// where the offset's sign belongs, so a bad `valid_until` in the configuration crashed
    /// the server at startup instead of naming the setting.
    #[test]
    fn rejects_what_rfc_3339_refuses_without_panicking() {
        for bad in [
            "2023-02-29T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "+999-01-01T00:00:00Z",
            "2030-+1-01T00:00:00Z",
            "2030-01-01T00:00:00+99:00",
            "2030-01-01T00:00:00+01:+1",
            "2030-01-01T00:00:00\u{e9}1:00",
            "2030-01-01T00:00:00.5\u{e9}1:00",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00Z"), Ok(1_709_164_800));
    }

    #[test]
    fn formats_and_round_trips() {
        let t = UNIX_EPOCH + Duration::from_millis(1_709_202_615_250);
        assert_eq!(format_rfc3339(t), "2024-02-29T10:30:15.250Z");
        assert_eq!(parse_rfc3339(&format_rfc3339(t)), Ok(1_709_202_615));
        assert_eq!(format_rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }
}
