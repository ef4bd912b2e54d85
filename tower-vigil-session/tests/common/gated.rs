//! [`Gated`]: a store that stops at chosen points of the session operations, so a test can run
//! two flows in an exact interleaving (a login's create between a revoke-all's delete and its
//! index cleanup), and that can be switched to failing every call (a backend down, without a
//! Redis to stop). Everything else is passed straight through.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Semaphore;
use tower_vigil_core::{BackendError, BackendErrorKind, BackendResult};
use tower_vigil_session::__private::{CREATE_SCRIPT, DESTROY_SCRIPT};
use tower_vigil_tests::intercept::{Intercepted, Interceptor};

/// One stopping point: armed once, it signals `entered` and waits for a `release` permit.
#[derive(Debug)]
pub struct Gate {
    armed: AtomicBool,
    pub entered: Semaphore,
    pub release: Semaphore,
}

impl Default for Gate {
    fn default() -> Self {
        Self {
            armed: AtomicBool::new(false),
            entered: Semaphore::new(0),
            release: Semaphore::new(0),
        }
    }
}

impl Gate {
    pub fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    async fn pass(&self) {
        if self.armed.swap(false, Ordering::SeqCst) {
            self.entered.add_permits(1);
            self.release.acquire().await.expect("open").forget();
        }
    }

    /// Waits until a flow stopped here.
    pub async fn reached(&self) {
        self.entered.acquire().await.expect("open").forget();
    }

    /// Lets the stopped flow go on.
    pub fn open(&self) {
        self.release.add_permits(1);
    }
}

#[derive(Debug, Default)]
pub struct Gates {
    /// Before a session is created.
    pub before_create: Gate,
    /// After a session delete ran (the flow holds its answer).
    pub after_destroy: Gate,
    /// Set: every backend call fails as a backend that is down.
    pub down: AtomicBool,
}

impl Gates {
    fn check(&self) -> BackendResult<()> {
        if self.down.load(Ordering::SeqCst) {
            return Err(BackendError::new(
                BackendErrorKind::Unavailable,
                "the test took the backend down",
            ));
        }
        Ok(())
    }
}

/// A backend whose scripts pass the [`Gates`]: only `run` is intercepted, and everything
/// else (the KV methods) is provided on `run`, so it passes through the gates too.
pub type Gated<S> = Intercepted<S, Gates>;

impl Interceptor for Gates {
    async fn before(&self, script: &'static str) -> BackendResult<()> {
        self.check()?;
        if script == CREATE_SCRIPT {
            self.before_create.pass().await;
        }
        Ok(())
    }

    async fn after(&self, script: &'static str) -> BackendResult<()> {
        if script == DESTROY_SCRIPT {
            self.after_destroy.pass().await;
        }
        Ok(())
    }
}
