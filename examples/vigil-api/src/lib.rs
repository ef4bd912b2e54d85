//! The parts of vigil-api that others reach: what reads outside input before the server
//! starts (the configuration file, its limits, proxies and timestamps, for the fuzz targets in
//! `fuzz/` at the workspace root), the analysis itself, and the analysis jobs' contract with
//! the `detection-worker` example (stream, subject, message and result). The binary
//! (`main.rs`) uses them from here; they are not an API of their own.
#![forbid(unsafe_code)]

pub mod analyze;
pub mod client_ip;
pub mod config;
pub mod jobs;
pub mod limits;
pub mod time;
