pub mod admin;
pub mod analyze;
pub mod auth;
pub mod jobs;
pub mod ops;
