//! [`ExactlyOnce`]: the service.

use std::task::{Context, Poll};

use tower_service::Service;
use tower_vigil_core::Backend;

use super::future::ResponseFuture;
use crate::work::{Done, Job, JobOutcome, WorkError, WorkLedger};

/// Runs the inner service for a message only when its unit of work has not completed
/// before, and records the response as the unit's outcome. Built by
/// [`ExactlyOnceLayer`](super::ExactlyOnceLayer).
///
/// The response is a [`Done`] (the outcome, and whether it was
/// [replayed](Done::is_replayed)); the error a [`WorkError`] holding the inner service's
/// error as [`Failed`](crate::work::WorkErrorKind::Failed) (the id is then released so a
/// redelivery runs it again).
#[derive(Debug, Clone)]
pub struct ExactlyOnce<S, B> {
    inner: S,
    ledger: WorkLedger<B>,
}

impl<S, B: Backend> ExactlyOnce<S, B> {
    /// Wraps `inner`, recording units in `ledger`.
    pub fn new(inner: S, ledger: WorkLedger<B>) -> Self {
        Self { inner, ledger }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, taken out.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<M, S, B> Service<M> for ExactlyOnce<S, B>
where
    M: Job + Send + 'static,
    S: Service<M> + Clone + Send + 'static,
    S::Response: JobOutcome + Send + 'static,
    S::Error: Send + 'static,
    S::Future: Send + 'static,
    B: Backend,
{
    type Response = Done<S::Response>;
    type Error = WorkError<S::Error>;
    type Future = ResponseFuture<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(WorkError::failed)
    }

    fn call(&mut self, message: M) -> Self::Future {
        // The clone that was driven to readiness serves this message; a fresh clone stays.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let ledger = self.ledger.clone();
        ResponseFuture::new(Box::pin(async move {
            let id = message.id().into_owned();
            let payload = message.payload().into_owned();
            ledger.run(&id, &payload, move || inner.call(message)).await
        }))
    }
}
