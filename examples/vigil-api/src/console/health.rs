//! `GET /console/health`: the backend probe (`GET /health/redis`'s report) and the rate
//! limiters' recent decisions as an inline SVG chart with the same numbers in a table.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use tower_vigil_core::{Backend, health};
use tower_vigil_session::Session;

use super::activity::{Outcome, POINTS, STEP};
use super::chart;
use super::page::{Chrome, html, signed_in};
use crate::state::Shared;

/// One outcome in the legend and the table.
struct Line {
    id: &'static str,
    label: &'static str,
    recent: u64,
    total: u64,
}

#[derive(Template)]
#[template(path = "console/health.html")]
struct HealthPage {
    chrome: Chrome,
    status: &'static str,
    backend: &'static str,
    details: Vec<(&'static str, String)>,
    warnings: Vec<String>,
    metrics: bool,
    chart: String,
    legend: Vec<Line>,
    minutes: u64,
    step: u64,
}

/// `GET /console/health`.
pub async fn page<B: Backend>(
    State(state): State<Shared<B>>,
    session: Session,
) -> Result<Response, Response> {
    let (chrome, _) = signed_in(&state, &session, "health").await?;
    let report = health::check(&state.backend).await;
    let mut details = Vec::new();
    if let Some(ms) = report.latency_ms {
        details.push(("Ping", format!("{ms:.2} ms")));
    }
    if let Some(m) = &report.used_memory {
        details.push(("Used memory", m.clone()));
    }
    if let Some(n) = report.key_count {
        details.push(("Keys", n.to_string()));
    }
    if let Some(p) = &report.eviction_policy {
        details.push(("Eviction policy", p.clone()));
    }
    if let Some(e) = &report.error {
        details.push(("Error", e.clone()));
    }
    let points = state.activity.recent();
    let totals = state.activity.totals();
    let legend = Outcome::ALL
        .into_iter()
        .map(|o| Line {
            id: o.class(),
            label: o.label(),
            recent: points.iter().map(|p| p[o as usize]).sum(),
            total: totals[o as usize],
        })
        .collect();
    Ok(html(
        &HealthPage {
            chrome,
            status: report.status,
            backend: report.backend.as_str(),
            details,
            warnings: report.warnings.iter().map(|w| w.message.clone()).collect(),
            metrics: state.metrics.is_some(),
            chart: chart::svg(&points),
            legend,
            minutes: STEP.as_secs() * POINTS as u64 / 60,
            step: STEP.as_secs(),
        },
        StatusCode::OK,
    ))
}
