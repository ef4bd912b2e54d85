//! [`ExactlyOnceLayer`]: wraps a service in [`ExactlyOnce`].

use tower_layer::Layer;
use tower_vigil_core::Backend;

use super::service::ExactlyOnce;
use crate::work::WorkLedger;

/// Runs each message's unit of work at most once to completion across every worker sharing
/// the ledger's backend: a duplicate delivery gets the stored outcome, a delivery while the
/// unit runs elsewhere gets [`InFlight`](crate::work::WorkErrorKind::InFlight).
#[derive(Debug, Clone)]
pub struct ExactlyOnceLayer<B> {
    ledger: WorkLedger<B>,
}

impl<B: Backend> ExactlyOnceLayer<B> {
    /// A layer recording units in `ledger`.
    pub fn new(ledger: WorkLedger<B>) -> Self {
        Self { ledger }
    }
}

impl<S, B: Backend> Layer<S> for ExactlyOnceLayer<B> {
    type Service = ExactlyOnce<S, B>;

    fn layer(&self, inner: S) -> Self::Service {
        ExactlyOnce::new(inner, self.ledger.clone())
    }
}
