//! The parts of vigil-api that read outside input before the server starts (the
//! configuration file, its limits, proxies and timestamps), as a library so the fuzz targets
//! (`fuzz/` at the workspace root) can reach them. The binary (`main.rs`) uses them from here;
//! they are not an API of their own.
#![forbid(unsafe_code)]

pub mod client_ip;
pub mod config;
pub mod limits;
pub mod time;
