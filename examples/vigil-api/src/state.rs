//! What the handlers share.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use tower_vigil_apikey::ApiKeyCache;
use tower_vigil_core::Backend;
use tower_vigil_session::SessionAdmin;

use crate::console::activity::Activity;
use crate::db::Db;
use crate::job_queue::JobQueue;
use crate::limits::Limits;

/// Shared by every handler; cheap to clone.
pub struct AppState<B: Backend> {
    pub db: Db,
    pub backend: B,
    pub api_keys: ApiKeyCache<B, Db>,
    /// The checked limits, for quotas changed at runtime.
    pub limits: Limits,
    pub sessions: SessionAdmin,
    pub metrics: Option<PrometheusHandle>,
    /// The analysis jobs' queue and ledger; `None` without NATS (the job routes answer 503).
    pub jobs: Option<JobQueue<B>>,
    /// The rate limiters' recent decisions, for the console's health page.
    pub activity: Arc<Activity>,
}

impl<B: Backend> Clone for AppState<B> {
    fn clone(&self) -> Self {
        Self {
            db: self.db.clone(),
            backend: self.backend.clone(),
            api_keys: self.api_keys.clone(),
            limits: self.limits.clone(),
            sessions: self.sessions.clone(),
            metrics: self.metrics.clone(),
            jobs: self.jobs.clone(),
            activity: self.activity.clone(),
        }
    }
}

/// The state as axum extracts it.
pub type Shared<B> = Arc<AppState<B>>;
