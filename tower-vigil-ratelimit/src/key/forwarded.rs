//! RFC 7239 `Forwarded`: `for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711"`.
//!
//! ```text
//! Forwarded         = 1#forwarded-element
//! forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] )
//! forwarded-pair    = token "=" value
//! value             = token / quoted-string      ; with \-escapes
//! ```
//!
//! **Where elements end.** Commas inside a quoted-string do not separate elements, so where
//! the quotes are decides where elements end, and a client controls the quotes in what it
//! sends. Read left to right, a quote the client leaves open (`for=9.9.9.9;x="`) would run
//! on into the element the trusted proxy appends after it and hide it, or pair with the
//! proxy's own quotes and shift them. So each header line is cut into elements reading
//! **right to left**: a quote seen from the right opens a quoted-string that closes at the
//! next quote to its left not escaped by a backslash. The cut at any point then depends
//! only on the bytes to its right: the elements a proxy appended (after its own comma, or on
//! its own header line) come out the same whatever the client wrote before them. A quote
//! left open at the line's start (a quote of the client's) is cut at the nearest comma to
//! its left, and that element is invalid; a quote outside a quoted-string that a backslash
//! precedes never opens one (it is invalid anyway), which keeps the cutting linear.
//!
//! **What an element says.** Each element is then parsed alone, strictly: any syntax error,
//! a repeated parameter, or a `for` that is `unknown`, obfuscated (`_hidden`) or absent makes
//! it [`Hop::Opaque`], which never hides another element.

use http::HeaderMap;

use super::hop::{Hop, parse_node, trim_ows};

/// Every element's hop, left to right, across repeated header lines; empty elements are
/// skipped, as for any HTTP list.
pub(super) fn hops(headers: &HeaderMap) -> Vec<Hop> {
    let mut out = Vec::new();
    for line in headers.get_all(http::header::FORWARDED) {
        out.extend(
            elements(line.as_bytes())
                .into_iter()
                .map(trim_ows)
                .filter(|e| !e.is_empty())
                .map(element),
        );
    }
    out
}

/// The line cut into elements, reading right to left (see the module docs), returned left
/// to right.
fn elements(line: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let (mut end, mut i) = (line.len(), line.len());
    // Inside a quoted-string: where it was opened (its right quote) and the nearest comma
    // seen inside it so far.
    let mut quoted: Option<Option<usize>> = None;
    while i > 0 {
        i -= 1;
        let b = line[i];
        match quoted {
            Some(comma) => {
                if b == b'"' && !escaped(line, i) {
                    quoted = None;
                } else if b == b',' && comma.is_none() {
                    quoted = Some(Some(i));
                }
            }
            None if b == b'"' && !escaped(line, i) => quoted = Some(None),
            None if b == b',' => {
                out.push(&line[i + 1..end]);
                end = i;
            }
            None => {}
        }
        if i == 0
            && let Some(Some(comma)) = quoted
        {
            // Never closed: cut at the nearest comma left of the open quote and go on left
            // of it. No quote left of the open one is unescaped (it would have closed it),
            // so the rest is cut at commas alone.
            out.push(&line[comma + 1..end]);
            (end, i, quoted) = (comma, comma, None);
        }
    }
    out.push(&line[..end]);
    out.reverse();
    out
}

/// True when the byte at `i` follows an odd run of backslashes.
fn escaped(line: &[u8], i: usize) -> bool {
    line[..i].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1
}

/// The hop one element names.
fn element(e: &[u8]) -> Hop {
    match for_value(e) {
        Some(Some(node)) => std::str::from_utf8(&node)
            .ok()
            .and_then(parse_node)
            .map_or(Hop::Opaque, Hop::Ip),
        _ => Hop::Opaque,
    }
}

/// The unquoted `for` value of a well-formed element: `Some(None)` when it has none, `None`
/// when the element does not parse or repeats a parameter.
fn for_value(mut e: &[u8]) -> Option<Option<Vec<u8>>> {
    let mut seen: Vec<Vec<u8>> = Vec::new();
    let mut found = None;
    loop {
        e = trim_ows_start(e);
        if let [b';', rest @ ..] = e {
            e = rest; // an empty pair
            continue;
        }
        if e.is_empty() {
            return Some(found);
        }
        let name_len = e.iter().take_while(|&&b| is_tchar(b)).count();
        let name = e[..name_len].to_ascii_lowercase();
        let rest = e[name_len..].strip_prefix(b"=")?;
        if name.is_empty() || seen.contains(&name) {
            return None;
        }
        let (value, rest) = match rest {
            [b'"', quoted @ ..] => quoted_string(quoted)?,
            _ => {
                let len = rest.iter().take_while(|&&b| is_tchar(b)).count();
                (rest[..len].to_vec(), &rest[len..])
            }
        };
        if value.is_empty() {
            return None;
        }
        if name == b"for" {
            found = Some(value);
        }
        seen.push(name);
        e = trim_ows_start(rest);
        match e {
            [] => return Some(found),
            [b';', rest @ ..] => e = rest,
            _ => return None,
        }
    }
}

/// The content of a quoted-string whose opening quote is already consumed, unescaped, and
/// the bytes after its closing quote.
fn quoted_string(mut s: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let mut out = Vec::new();
    loop {
        match s {
            [b'"', rest @ ..] => return Some((out, rest)),
            [b'\\', c, rest @ ..] if is_qtext(*c) || *c == b'"' || *c == b'\\' => {
                out.push(*c);
                s = rest;
            }
            [c, rest @ ..] if is_qtext(*c) => {
                out.push(*c);
                s = rest;
            }
            _ => return None,
        }
    }
}

fn trim_ows_start(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = b {
        b = rest;
    }
    b
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// RFC 9110 `qdtext` (HTAB, SP, visible ASCII but `"` and `\`, obs-text).
fn is_qtext(b: u8) -> bool {
    matches!(b, b'\t' | b' ' | 0x21 | 0x23..=0x5b | 0x5d..=0x7e | 0x80..=0xff)
}

#[cfg(test)]
mod tests;
