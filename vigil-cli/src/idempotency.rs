//! `vigil idempotency inspect SCOPE KEY`: `tower_vigil_idempotency::inspect`.

use std::process::ExitCode;

use clap::Subcommand;
use serde_json::json;
use tower_vigil_idempotency::{Inspection, inspect};

use crate::backend::Target;
use crate::{Failure, Outcome, output};

#[derive(Debug, Subcommand)]
pub(crate) enum IdempotencyCommand {
    /// Whether a key is free, in flight (and how long its lease has left) or completed (and
    /// what status it stored).
    Inspect {
        /// The caller's scope, as its principal's `scope()` gives it (`apikey:k-demo`,
        /// `user:alice`).
        scope: String,
        /// The `Idempotency-Key` value (without the structured-field quotes).
        key: String,
    },
}

pub(crate) async fn run(target: &Target, command: IdempotencyCommand, json: bool) -> Outcome {
    let IdempotencyCommand::Inspect { scope, key } = command;
    let backend = target.connect().await?;
    let found = inspect(&backend, &scope, &key)
        .await
        .map_err(Failure::backend)?;
    let mut rows = vec![("scope", scope.clone()), ("key", key.clone())];
    let body = match &found {
        Inspection::InFlight {
            lease_remaining,
            owner_present,
        } => {
            rows.push(("state", "in flight".into()));
            rows.push(("lease left", output::duration(*lease_remaining)));
            rows.push((
                "lease owner",
                if *owner_present { "present" } else { "missing" }.into(),
            ));
            json!({
                "state": "in-flight",
                "leaseRemainingMs": output::millis(*lease_remaining),
                "ownerPresent": owner_present,
            })
        }
        Inspection::Completed(r) => {
            rows.push(("state", "completed".into()));
            rows.push(("status", r.status.to_string()));
            rows.push((
                "replayable",
                match r.not_replayable {
                    None => "yes".into(),
                    Some(reason) => format!("no ({reason})"),
                },
            ));
            if r.not_replayable.is_none() {
                rows.push(("body", output::bytes(r.body_len as u64)));
                rows.push(("headers", r.header_count.to_string()));
            }
            if let Some(left) = r.retention_remaining {
                rows.push(("kept for", output::duration(left)));
            }
            json!({
                "state": "completed",
                "status": r.status.as_u16(),
                "replayable": r.not_replayable.is_none(),
                "notReplayableReason": r.not_replayable.map(|n| n.as_str()),
                "bodyBytes": r.body_len,
                "headerCount": r.header_count,
                "retentionRemainingMs": r.retention_remaining.map(output::millis),
            })
        }
        _ => {
            rows.push(("state", "free".into()));
            json!({ "state": "free" })
        }
    };
    if json {
        let mut body = body;
        body["scope"] = json!(scope);
        body["key"] = json!(key);
        output::json(&body);
    } else {
        output::pairs(&rows);
    }
    Ok(ExitCode::SUCCESS)
}
