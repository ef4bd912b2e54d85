//! `vigil-bench`: the benchmark suite of issue 8. Every layer measured against its peers and
//! the limits of the machine, as ratios measured side by side in one run.
//!
//! ```text
//! cargo run --release -p vigil-bench -- all            # everything, writes BENCHMARKS.md
//! cargo run --release -p vigil-bench -- macro --quick  # one part, a short smoke run
//! cargo run --release -p vigil-bench -- --help         # the parts and flags
//! ```
//!
//! Parts: `micro` (decisions/s vs governor and vs redis-benchmark), `macro` (axum under wrk
//! or the in-Rust load generator), `memory` (bytes per item in Redis), `flood` (backend calls
//! with and without the deny cache), `layer` (each layer's own cost per request in process,
//! no network). It starts its own redis-servers on free loopback ports.
// A benchmark's output is its figures on stdout.
#![allow(clippy::print_stdout)]

mod cli;
mod flood;
mod instructions;
mod layer_cost;
mod load;
mod machine;
mod macro_bench;
mod micro;
mod minimal;
mod redis_memory;
mod report;
mod server;
mod stats;
mod targets;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

use crate::cli::{Cli, Part};
use load::Generator;

/// Durations and sizes of one run.
pub(crate) struct Settings {
    pub(crate) rounds: usize,
    pub(crate) macro_run: Duration,
    pub(crate) micro_run: Duration,
    pub(crate) redis_calls: usize,
    pub(crate) memory_items: usize,
    pub(crate) flood_run: Duration,
    pub(crate) layer_run: Duration,
}

impl Settings {
    fn new(quick: bool) -> Self {
        if quick {
            Self {
                rounds: 3,
                macro_run: Duration::from_secs(1),
                micro_run: Duration::from_millis(100),
                redis_calls: 10_000,
                memory_items: 10_000,
                flood_run: Duration::from_secs(1),
                layer_run: Duration::from_millis(200),
            }
        } else {
            // Five shorter rounds rather than three long ones: on a shared machine the median
            // of five shrugs off a burst of someone else's work.
            Self {
                rounds: 5,
                macro_run: Duration::from_secs(3),
                micro_run: Duration::from_millis(300),
                redis_calls: 40_000,
                memory_items: 100_000,
                flood_run: Duration::from_secs(2),
                layer_run: Duration::from_secs(1),
            }
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(app) = &cli.requests_of {
        return instructions::child(app, cli.requests);
    }
    let (quick, only) = (cli.quick, &cli.only);
    let has = |p: Part| cli.runs(p);
    let settings = Settings::new(quick);
    let machine = machine::Machine::detect();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = format!("cargo run --release -p vigil-bench -- {}", args.join(" "));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let started = Instant::now();
    let mut results = runtime.block_on(async {
        report::Results {
            micro: if has(Part::Micro) {
                Some(micro::run(settings.micro_run, settings.rounds, settings.redis_calls).await)
            } else {
                None
            },
            macro_result: if has(Part::Macro) {
                Some(
                    macro_bench::run(
                        Generator::detect(),
                        settings.macro_run,
                        settings.rounds,
                        only,
                    )
                    .await,
                )
            } else {
                None
            },
            memory: if has(Part::Memory) {
                Some(redis_memory::run(settings.memory_items).await)
            } else {
                None
            },
            flood: if has(Part::Flood) {
                Some(flood::run(settings.flood_run, settings.rounds).await)
            } else {
                None
            },
            layer_cost: if has(Part::Layer) {
                Some(layer_cost::run(settings.layer_run, settings.rounds, only).await)
            } else {
                None
            },
            elapsed_secs: 0.0,
        }
    });
    results.elapsed_secs = started.elapsed().as_secs_f64();
    let load_at_end = machine::load_average();
    let targets = targets::evaluate(&results);
    let text = report::render(
        &results,
        &targets,
        &machine,
        &load_at_end,
        command.trim_end(),
        &settings,
    );
    println!("{text}");
    if cli.part == Part::All && !quick && only.is_empty() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../BENCHMARKS.md");
        match std::fs::write(path, &text) {
            Ok(()) => eprintln!("wrote BENCHMARKS.md ({:.0} s)", results.elapsed_secs),
            Err(e) => eprintln!("could not write {path}: {e}"),
        }
    } else {
        eprintln!("(BENCHMARKS.md is written by a full `all` run only)");
    }
    runtime.shutdown_timeout(Duration::from_secs(1));
    ExitCode::SUCCESS
}
