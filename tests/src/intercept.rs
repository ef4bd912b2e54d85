//! [`Intercepted`]: a backend that forwards every call to the one it wraps and lets an
//! [`Interceptor`] act around each script run (fail it, stall it, lose its reply, count it,
//! hold it at a gate). The test backends of every crate are this wrapper with a hook of their
//! own, so the trait's seven required methods are forwarded in one place.
//!
//! Only `run` is intercepted: the provided methods (KV, sets, hashes, leases) are scripts, so
//! they pass through the hook too, under their core script's name (`core.acquire_lease`, ...).
//!
//! ```
//! # async fn t() {
//! use tower_vigil_core::{Backend, BackendError, BackendResult};
//! use tower_vigil_tests::fixtures;
//! use tower_vigil_tests::intercept::{Intercepted, Interceptor};
//!
//! #[derive(Debug, Default)]
//! struct RefuseSets;
//!
//! impl Interceptor for RefuseSets {
//!     async fn before(&self, script: &'static str) -> BackendResult<()> {
//!         if script == "core.set" {
//!             return Err(BackendError::protocol("refused"));
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let backend: Intercepted<_, RefuseSets> = Intercepted::new(fixtures::memory());
//! assert!(backend.set("k", "v".into(), std::time::Duration::from_secs(1)).await.is_err());
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::backend::{BackendInfo, BackendKind, Subscription};
use tower_vigil_core::keys::KeyPrefix;
use tower_vigil_core::script::{Arg, Script};
use tower_vigil_core::{Backend, BackendResult};

/// What happens around each script run of an [`Intercepted`] backend. Both hooks default to
/// letting the call through.
pub trait Interceptor: Send + Sync + fmt::Debug + 'static {
    /// Before `script` runs: an error is the call's answer, and the script does not run.
    fn before(&self, script: &'static str) -> impl Future<Output = BackendResult<()>> + Send {
        let _ = script;
        async { Ok(()) }
    }

    /// After `script` ran: an error replaces its answer (a reply lost on the way back).
    fn after(&self, script: &'static str) -> impl Future<Output = BackendResult<()>> + Send {
        let _ = script;
        async { Ok(()) }
    }
}

/// Forwards everything: a backend that only has the trait's required methods, so every
/// provided method runs its core script through `run` (as on a third-party backend).
impl Interceptor for () {}

/// `inner` with `I` acting around each script run. Clones share the hook; it is reachable
/// through `Deref` (`backend.some_switch()`) and [`hook`](Self::hook).
pub struct Intercepted<B, I> {
    /// The wrapped backend.
    pub inner: B,
    hook: Arc<I>,
}

impl<B, I: Default> Intercepted<B, I> {
    /// `inner` with a fresh default hook.
    pub fn new(inner: B) -> Self {
        Self::with(inner, I::default())
    }
}

impl<B, I> Intercepted<B, I> {
    /// `inner` with `hook`.
    pub fn with(inner: B, hook: I) -> Self {
        Self {
            inner,
            hook: Arc::new(hook),
        }
    }

    /// The shared hook.
    pub fn hook(&self) -> &Arc<I> {
        &self.hook
    }
}

impl<B: Clone, I> Clone for Intercepted<B, I> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            hook: self.hook.clone(),
        }
    }
}

impl<B: fmt::Debug, I: fmt::Debug> fmt::Debug for Intercepted<B, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Intercepted")
            .field("inner", &self.inner)
            .field("hook", &self.hook)
            .finish()
    }
}

impl<B, I> Deref for Intercepted<B, I> {
    type Target = I;

    fn deref(&self) -> &I {
        &self.hook
    }
}

impl<B: Backend, I: Interceptor> Backend for Intercepted<B, I> {
    fn kind(&self) -> BackendKind {
        self.inner.kind()
    }
    fn prefix(&self) -> &KeyPrefix {
        self.inner.prefix()
    }
    async fn run<T: Send + 'static>(
        &self,
        script: &Script<T>,
        keys: &[&str],
        args: &[Arg<'_>],
    ) -> BackendResult<T> {
        self.hook.before(script.name()).await?;
        let out = self.inner.run(script, keys, args).await;
        self.hook.after(script.name()).await?;
        out
    }
    async fn publish(&self, channel: &str, message: Bytes) -> BackendResult<()> {
        self.inner.publish(channel, message).await
    }
    async fn subscribe(&self, channel: &str) -> BackendResult<Subscription> {
        self.inner.subscribe(channel).await
    }
    async fn ping(&self) -> BackendResult<Duration> {
        self.inner.ping().await
    }
    async fn info(&self) -> BackendResult<BackendInfo> {
        self.inner.info().await
    }
}
