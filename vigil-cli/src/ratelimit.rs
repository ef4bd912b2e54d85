//! `vigil ratelimit inspect|reset KEY`: a caller's state under one policy, read with
//! `Mode::Peek` (nothing changes), or deleted with `tower_vigil_ratelimit::reset`.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use tower_vigil_core::Backend;
use tower_vigil_ratelimit::{Acquire, Algorithm, Mode, Policy, Quota, acquire, reset};

use crate::backend::Target;
use crate::{Failure, Outcome, output};

#[derive(Debug, Subcommand)]
pub(crate) enum RatelimitCommand {
    /// Remaining quota, reset time and state of a caller's key under a policy (changes
    /// nothing).
    Inspect(PolicyArgs),
    /// Delete a caller's state under a policy: its next request has the full quota. (Layers'
    /// in-process deny caches may keep refusing it until the denial's retry time.)
    Reset(PolicyArgs),
}

/// The caller's key and the policy it is limited by. The defaults are the flagship's per-key
/// policy (`default`, 100 per 60 s, GCRA).
#[derive(Debug, Args)]
pub(crate) struct PolicyArgs {
    /// The caller's key as the layer's key extractor gives it: `p:<principal scope>` for
    /// `PrincipalKey` (e.g. `p:apikey:k-demo`; the flagship's per-key limit adds the key's quota:
    /// `p:apikey:k-demo#100`), the client IP
    /// for `PeerIp`, what your closure returns for a custom extractor.
    key: String,
    /// The policy's name.
    #[arg(long, default_value = "default")]
    policy: String,
    /// The policy's quota: requests per window.
    #[arg(long, default_value_t = 100)]
    limit: u32,
    /// The policy's window in seconds.
    #[arg(long, default_value_t = 60)]
    window: u64,
    /// The policy's algorithm.
    #[arg(long, value_enum, default_value_t = AlgorithmArg::Gcra)]
    algorithm: AlgorithmArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum AlgorithmArg {
    Gcra,
    TokenBucket,
    SlidingWindowLog,
    SlidingWindowCounter,
    FixedWindow,
}

impl From<AlgorithmArg> for Algorithm {
    fn from(a: AlgorithmArg) -> Self {
        match a {
            AlgorithmArg::Gcra => Self::Gcra,
            AlgorithmArg::TokenBucket => Self::TokenBucket,
            AlgorithmArg::SlidingWindowLog => Self::SlidingWindowLog,
            AlgorithmArg::SlidingWindowCounter => Self::SlidingWindowCounter,
            AlgorithmArg::FixedWindow => Self::FixedWindow,
        }
    }
}

impl PolicyArgs {
    fn policy(&self) -> Result<Policy, Failure> {
        Policy::with_algorithm(
            &self.policy,
            Quota::new(self.limit, Duration::from_secs(self.window)),
            self.algorithm.into(),
        )
        .map_err(|e| Failure::Usage(format!("policy: {e}")))
    }
}

pub(crate) async fn run(target: &Target, command: RatelimitCommand, json: bool) -> Outcome {
    match command {
        RatelimitCommand::Inspect(a) => inspect(target, &a, json).await,
        RatelimitCommand::Reset(a) => {
            let policies = [a.policy()?];
            let backend = target.connect().await?;
            let deleted = reset(&backend, &a.key, &policies)
                .await
                .map_err(Failure::backend)?;
            if json {
                output::json(&json!({
                    "key": a.key,
                    "policy": a.policy,
                    "reset": deleted > 0,
                }));
            } else if deleted > 0 {
                println!("reset {:?} under policy {:?}", a.key, a.policy);
            } else {
                println!(
                    "{:?} had no state under policy {:?}: nothing to reset",
                    a.key, a.policy
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn inspect(target: &Target, a: &PolicyArgs, json: bool) -> Outcome {
    let policies = [a.policy()?];
    let backend = target.connect().await?;
    let request = Acquire::new(&a.key, &policies).mode(Mode::Peek);
    // Cost 0: what is left now; cost 1: whether the next request would pass, and when.
    let now = acquire(&backend, request.cost(0))
        .await
        .map_err(Failure::backend)?;
    let next = acquire(&backend, request.cost(1))
        .await
        .map_err(Failure::backend)?;
    let key = request.keys().remove(0);
    let ttl = backend.ttl(&key).await.map_err(Failure::backend)?;
    let p = &now.policies()[0];
    let state = match (ttl.is_some(), next.allowed()) {
        (false, _) => "fresh",
        (true, true) => "active",
        (true, false) => "limited",
    };
    let retry_after = next.retry_after().unwrap_or_default();
    if json {
        output::json(&json!({
            "key": a.key,
            "policy": a.policy,
            "algorithm": Algorithm::from(a.algorithm).to_string(),
            "limit": a.limit,
            "windowSeconds": a.window,
            "state": state,
            "remaining": p.remaining(),
            "resetMs": output::millis(p.reset_after()),
            "retryAfterMs": output::millis(retry_after),
            "backendKey": format!("{}:{key}", target.prefix),
        }));
    } else {
        output::pairs(&[
            ("key", a.key.clone()),
            (
                "policy",
                format!(
                    "{} ({} per {}s, {})",
                    a.policy,
                    a.limit,
                    a.window,
                    Algorithm::from(a.algorithm)
                ),
            ),
            ("state", state.to_owned()),
            ("remaining", format!("{} of {}", p.remaining(), a.limit)),
            ("full again in", output::duration(p.reset_after())),
            (
                "next request",
                if next.allowed() {
                    "allowed".to_owned()
                } else {
                    format!("denied for {}", output::duration(retry_after))
                },
            ),
            ("backend key", format!("{}:{key}", target.prefix)),
        ]);
    }
    Ok(ExitCode::SUCCESS)
}
