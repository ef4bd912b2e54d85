//! Turning the fuzzer's bytes into header lines.

use http::HeaderValue;

/// Up to `max` header values: `bytes` cut at `\n`, each line without the bytes no header
/// value can hold (controls other than HTAB, DEL), so every input exercises the parser
/// instead of being refused by `http`.
pub(crate) fn header_lines(bytes: &[u8], max: usize) -> Vec<HeaderValue> {
    if bytes.is_empty() {
        return Vec::new();
    }
    bytes
        .split(|&b| b == b'\n')
        .take(max)
        .filter_map(|line| {
            let kept: Vec<u8> = line
                .iter()
                .copied()
                .filter(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
                .collect();
            HeaderValue::from_bytes(&kept).ok()
        })
        .collect()
}

/// `n` characters of `alphabet`, picked by `seed`'s bytes (cycled; `alphabet[0]` when empty).
pub(crate) fn chars_from(seed: &[u8], n: usize, alphabet: &[u8]) -> String {
    (0..n)
        .map(|i| {
            let b = if seed.is_empty() {
                0
            } else {
                seed[i % seed.len()].wrapping_add(u8::try_from(i / seed.len()).unwrap_or(0))
            };
            char::from(alphabet[usize::from(b) % alphabet.len()])
        })
        .collect()
}
