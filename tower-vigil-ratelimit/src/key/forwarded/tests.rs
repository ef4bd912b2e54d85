use http::HeaderValue;

use super::*;

fn parse(lines: &[&[u8]]) -> Vec<Hop> {
    let mut h = HeaderMap::new();
    for line in lines {
        h.append(
            http::header::FORWARDED,
            HeaderValue::from_bytes(line).unwrap(),
        );
    }
    hops(&h)
}

fn ip(s: &str) -> Hop {
    Hop::Ip(s.parse().unwrap())
}

#[test]
fn rfc_7239_examples() {
    assert_eq!(parse(&[br#"for="_gazonk""#]), [Hop::Opaque], "obfuscated");
    assert_eq!(
        parse(&[br#"For="[2001:db8:cafe::17]:4711""#]),
        [ip("2001:db8:cafe::17")]
    );
    assert_eq!(
        parse(&[b"for=192.0.2.60;proto=http;by=203.0.113.43"]),
        [ip("192.0.2.60")]
    );
    assert_eq!(
        parse(&[b"for=192.0.2.43, for=198.51.100.17"]),
        [ip("192.0.2.43"), ip("198.51.100.17")]
    );
    assert_eq!(
        parse(&[b"for=unknown", b"proto=https"]),
        [Hop::Opaque, Hop::Opaque],
        "unknown, and no `for`"
    );
}

#[test]
fn quoted_strings_with_commas_and_escapes_are_one_element() {
    assert_eq!(
        parse(&[br#"for=192.0.2.1;ext="a, b \" c\\", for="198.51.100.2:80""#]),
        [ip("192.0.2.1"), ip("198.51.100.2")]
    );
    assert_eq!(parse(&[br#"for="192.0.\2.1""#]), [ip("192.0.2.1")]);
}

#[test]
fn an_unterminated_quote_never_hides_what_follows_it() {
    // The issue's case: the client's open quote, then what the trusted proxy appended.
    assert_eq!(
        parse(&[br#"for=9.9.9.9;x=", for=203.0.113.5"#]),
        [Hop::Opaque, ip("203.0.113.5")]
    );
    // The proxy's own quotes cannot close the client's.
    assert_eq!(
        parse(&[br#"for=9.9.9.9;x=", for="[2001:db8::5]:443""#]),
        [Hop::Opaque, ip("2001:db8::5")]
    );
    assert_eq!(
        parse(&[br#"for=1.1.1.1, x=a, b", for=192.0.2.9"#]),
        [ip("1.1.1.1"), Hop::Opaque, Hop::Opaque, ip("192.0.2.9")],
        "cut at the nearest comma left of the open quote, then at commas"
    );
    // A separate header line is never joined to another.
    assert_eq!(
        parse(&[br#"for=9.9.9.9;x=""#, b"for=203.0.113.5"]),
        [Hop::Opaque, ip("203.0.113.5")]
    );
    // An escaped quote outside a quoted-string opens nothing.
    assert_eq!(
        parse(&[br#"x=\", for=203.0.113.6"#]),
        [Hop::Opaque, ip("203.0.113.6")]
    );
}

#[test]
fn malformed_elements_are_opaque() {
    for bad in [
        &b"for=192.0.2.1;for=192.0.2.2"[..],
        b"for=",
        b"for 192.0.2.1",
        b"=192.0.2.1",
        b"for=192.0.2.1 x",
        b"for=2001:db8::1",
        b"for=\"192.0.2.1",
        b"for=\"\xff\"",
        b"for=192.0.2.1\"",
    ] {
        assert_eq!(
            parse(&[bad]),
            [Hop::Opaque],
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    assert_eq!(
        parse(&[b" ;for=192.0.2.1 ; ;proto=https ,, "]),
        [ip("192.0.2.1")],
        "empty pairs and elements, whitespace"
    );
}

#[test]
fn cutting_is_linear() {
    // Every open quote would cost a rescan of the line if cutting were not linear.
    let line = br#"\",\","#.repeat(20_000);
    assert_eq!(parse(&[&line]).len(), 40_000);
    let mut open = br#"\","#.repeat(20_000);
    open.push(b'"');
    let hops = parse(&[&open]);
    assert_eq!(hops.len(), 20_001);
    assert!(hops.iter().all(|h| *h == Hop::Opaque));
}
