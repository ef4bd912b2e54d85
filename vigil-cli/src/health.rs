//! `vigil health`: `tower_vigil_core::health::check`, as a table or its JSON body.

use std::process::ExitCode;

use tower_vigil_core::health;

use crate::backend::Target;
use crate::{Outcome, output};

pub(crate) async fn run(target: &Target, json: bool) -> Outcome {
    let report = match target.connect().await {
        Ok(backend) => health::check(&backend).await,
        Err(e) => {
            // Not answering is what `health` reports, not a usage error.
            let msg = match e {
                crate::Failure::Backend(m) | crate::Failure::Usage(m) => m,
            };
            if json {
                output::json(&serde_json::json!({
                    "status": "unhealthy",
                    "backend": target.topology.name(),
                    "connected": false,
                    "error": msg,
                }));
            } else {
                output::pairs(&[
                    ("status", "unhealthy".into()),
                    ("backend", target.topology.name().into()),
                    ("connected", "false".into()),
                    ("error", msg),
                ]);
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    if json {
        output::json(&report);
    } else {
        let mut rows = vec![
            ("status", report.status.to_owned()),
            ("backend", report.backend.as_str().to_owned()),
            ("connected", report.connected.to_string()),
        ];
        if let Some(ms) = report.latency_ms {
            rows.push(("latency", format!("{ms:.2} ms")));
        }
        if let Some(m) = &report.used_memory {
            rows.push(("used memory", m.clone()));
        }
        if let Some(k) = report.key_count {
            rows.push(("keys", k.to_string()));
        }
        if let Some(m) = report.maxmemory {
            rows.push((
                "maxmemory",
                if m == 0 {
                    "unlimited".into()
                } else {
                    output::bytes(m)
                },
            ));
        }
        if let Some(p) = &report.eviction_policy {
            rows.push(("eviction policy", p.clone()));
        }
        if let Some(n) = report.evicted_keys {
            rows.push(("evicted keys", n.to_string()));
        }
        if let Some(e) = &report.error {
            rows.push(("error", e.clone()));
        }
        output::pairs(&rows);
        if report.nodes.len() > 1 {
            println!();
            let nodes: Vec<Vec<String>> = report
                .nodes
                .iter()
                .map(|n| {
                    vec![
                        n.node.clone(),
                        output::bytes(n.used_memory),
                        if n.max_memory == 0 {
                            "unlimited".into()
                        } else {
                            output::bytes(n.max_memory)
                        },
                        n.eviction_policy.to_string(),
                        n.evicted_keys.to_string(),
                    ]
                })
                .collect();
            output::table(&["NODE", "USED", "MAXMEMORY", "POLICY", "EVICTED"], &nodes);
        }
        for w in &report.warnings {
            println!("\nwarning ({}, {}): {}", w.code, w.node, w.message);
        }
    }
    Ok(if report.is_healthy() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
