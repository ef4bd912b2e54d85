//! The console as a person uses it: Debian's `chromium`, headless, driven through
//! `chromedriver` over WebDriver (`fantoccini`), against the real binary. Two browsers are two
//! devices of one user; an attacker's pages are served by the test from other origins.
//!
//! Every page visited is saved as a PNG under `target/browser-screenshots/` (not committed) for
//! a reviewer to look at.

mod attacker;
mod console;
mod cross_site;
mod driver;
