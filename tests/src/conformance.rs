//! The Backend conformance suite (filled next).
