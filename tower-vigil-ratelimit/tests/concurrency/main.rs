//! Attacks under concurrency: requests sent at once, through several layer instances (several
//! app servers) sharing one store.
//!
//! - `accuracy`: 2,000 concurrent requests on one key admit exactly the limit.
//! - `charge`: charge by outcome takes the cost before the call, so requests sent at once run
//!   the handler at most `limit` times, and refunds behave (headers, deny cache, failures).
//! - `failed_login`: 400 password guesses at once, only failures counted: at most 10 reach
//!   the handler.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod accuracy;
mod charge;
mod failed_login;
