//! [`Failing`]: a backend whose named scripts fail without running, or run and lose their
//! replies, as a dead or partitioned Redis makes them; every other call goes through.

use std::sync::Mutex;
use std::time::Duration;

use tower_vigil_core::{BackendError, BackendErrorKind, BackendResult};
use tower_vigil_tests::intercept::{Intercepted, Interceptor};

/// The layer's scripts, by name.
pub const CLAIM: &str = "idempotency.claim";
pub const COMPLETE: &str = "idempotency.complete";

/// A backend whose scripts [`Faults`] says fail.
pub type Failing<B> = Intercepted<B, Faults>;

/// `inner` with the script `name` failing with a connection error without running.
pub fn refusing<B>(inner: B, name: &'static str) -> Failing<B> {
    let failing = Failing::new(inner);
    failing.refuse(name);
    failing
}

/// `inner` with the script `name` running, then answering as timed out: its reply is lost on
/// the way back, as a partition does to a call past its timeout.
pub fn losing_replies<B>(inner: B, name: &'static str) -> Failing<B> {
    let failing = Failing::new(inner);
    failing.lose_replies(name);
    failing
}

#[derive(Debug, Default)]
pub struct Faults {
    /// Scripts refused with a connection error, not run.
    refused: Mutex<Vec<&'static str>>,
    /// Scripts run, then answered as timed out.
    lost: Mutex<Vec<&'static str>>,
}

impl Faults {
    /// From now on the script `name` fails with a connection error without running.
    pub fn refuse(&self, name: &'static str) {
        self.refused.lock().unwrap().push(name);
    }

    /// From now on the script `name` runs, then answers as timed out.
    pub fn lose_replies(&self, name: &'static str) {
        self.lost.lock().unwrap().push(name);
    }

    /// Every call goes through again.
    pub fn heal(&self) {
        self.refused.lock().unwrap().clear();
        self.lost.lock().unwrap().clear();
    }
}

impl Interceptor for Faults {
    async fn before(&self, script: &'static str) -> BackendResult<()> {
        if self.refused.lock().unwrap().contains(&script) {
            return Err(BackendError::new(BackendErrorKind::Connection, "down"));
        }
        Ok(())
    }

    async fn after(&self, script: &'static str) -> BackendResult<()> {
        if self.lost.lock().unwrap().contains(&script) {
            return Err(BackendError::timeout(Duration::ZERO));
        }
        Ok(())
    }
}
