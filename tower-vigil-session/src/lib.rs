//! tower-vigil-session: filled by its own issue.
#![forbid(unsafe_code)]
