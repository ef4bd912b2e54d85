//! `vigil`: the operators' command line for tower-vigil. It works on the same Redis keys and
//! scripts as the middleware, through the library crates' public APIs (`health::check`,
//! `tower_vigil_ratelimit::{acquire, reset}`, `ApiKeyCache::invalidate_*`, `SessionAdmin`,
//! `tower_vigil_idempotency::inspect`); only `doctor`'s read-only diagnostics (INFO, SCAN,
//! TTL, MEMORY USAGE, CLUSTER INFO, SENTINEL CKQUORUM) talk to the nodes directly.
//!
//! Exit status: 0 fine, 1 something is wrong (unhealthy, a doctor finding, a backend error),
//! 2 bad usage (no backend or more than one, bad arguments).
#![forbid(unsafe_code)]
// A command-line tool prints its results.
#![allow(clippy::print_stdout)]

mod apikey;
mod backend;
mod doctor;
mod health;
mod idempotency;
mod output;
mod ratelimit;
mod sessions;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::backend::BackendArgs;

/// The operators' CLI for tower-vigil.
#[derive(Debug, Parser)]
#[command(name = "vigil", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    backend: BackendArgs,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Ping the backend and report latency, memory, key count and eviction settings.
    Health,
    /// Check Redis for what can break tower-vigil: versions, scripts, eviction policy, keys
    /// without a TTL, memory per concern, cluster slots, sentinel quorum.
    Doctor(doctor::DoctorArgs),
    /// Inspect or reset a caller's rate-limit state.
    #[command(subcommand)]
    Ratelimit(ratelimit::RatelimitCommand),
    /// Revoke an API key on every instance.
    #[command(subcommand)]
    Apikey(apikey::ApikeyCommand),
    /// List or revoke a user's sessions.
    #[command(subcommand)]
    Sessions(sessions::SessionsCommand),
    /// Inspect an idempotency key.
    #[command(subcommand)]
    Idempotency(idempotency::IdempotencyCommand),
}

/// What a command ends with: its exit status, or an error to print.
pub(crate) type Outcome = Result<ExitCode, Failure>;

/// Why a command failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad usage: exit status 2.
    Usage(String),
    /// The backend failed or refused: exit status 1.
    Backend(String),
}

impl Failure {
    pub(crate) fn backend(e: impl std::fmt::Display) -> Self {
        Self::Backend(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("vigil: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(Failure::Usage(msg)) => {
            eprintln!("vigil: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Backend(msg)) => {
            eprintln!("vigil: {msg}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Outcome {
    let target = cli.backend.resolve(&|name| std::env::var(name).ok())?;
    let json = cli.json;
    match cli.command {
        Command::Health => health::run(&target, json).await,
        Command::Doctor(args) => doctor::run(&target, &args, json).await,
        Command::Ratelimit(c) => ratelimit::run(&target, c, json).await,
        Command::Apikey(c) => apikey::run(&target, c, json).await,
        Command::Sessions(c) => sessions::run(&target, c, json).await,
        Command::Idempotency(c) => idempotency::run(&target, c, json).await,
    }
}
