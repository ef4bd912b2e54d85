//! The properties the fuzz targets in `fuzz/` check: one module per parser or decoder that
//! sees outside bytes, each with a `check(data: &[u8])` that panics when a property fails.
//!
//! The same functions run twice: under libFuzzer on nightly (`scripts/fuzz`, one
//! `fuzz/fuzz_targets/<name>.rs` per entry of [`TARGETS`]), and on stable as the test
//! `tests/replay.rs`, which feeds every committed corpus file (`fuzz/corpus/<name>/`) and
//! every kept crash (`fuzz/artifacts/<name>/`) through its check, so a crash found once stays
//! fixed in CI.
//!
//! Properties, not just "no panic": a decode of an encode round-trips; a parser that accepts
//! returns a value within its documented limits; two parsers of one format agree; for the
//! proxy headers, whatever a client writes before what the trusted proxies append, the key is
//! the one the trusted part alone gives.
//!
//! ```
//! // An empty input is a valid input for every target.
//! for (_, check) in tower_vigil_fuzz_checks::TARGETS {
//!     check(b"");
//! }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod input;
mod proxy;
mod session_token;

pub mod apikey_extract;
pub mod apikey_format;
pub mod apikey_record;
pub mod cross_site;
pub mod forwarded;
pub mod idempotency_key;
pub mod idempotency_record;
pub mod session_cookie;
pub mod session_cookie_signed;
pub mod session_header;
pub mod session_record;
pub mod valid_until;
pub mod vigil_config;
pub mod x_forwarded_for;

/// A target's check: panics when a property does not hold for `data`.
pub type Check = fn(&[u8]);

/// Every target, by the name of its fuzz target and corpus folder.
pub const TARGETS: &[(&str, Check)] = &[
    ("apikey_extract", apikey_extract::check),
    ("apikey_format", apikey_format::check),
    ("apikey_record", apikey_record::check),
    ("cross_site", cross_site::check),
    ("forwarded", forwarded::check),
    ("idempotency_key", idempotency_key::check),
    ("idempotency_record", idempotency_record::check),
    ("session_cookie", session_cookie::check),
    ("session_cookie_signed", session_cookie_signed::check),
    ("session_header", session_header::check),
    ("session_record", session_record::check),
    ("valid_until", valid_until::check),
    ("vigil_config", vigil_config::check),
    ("x_forwarded_for", x_forwarded_for::check),
];

/// The check named `name`.
pub fn check_named(name: &str) -> Option<Check> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}
