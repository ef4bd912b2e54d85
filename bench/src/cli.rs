//! The command line: which part to run, for how long, and which macro scenarios.

use clap::{Parser, ValueEnum};

/// Benchmarks of the tower-vigil layers against their peers and the machine's limits.
///
/// Every comparison is a ratio of two figures measured side by side in one run (A B A B …,
/// median of the rounds). It starts its own redis-servers on free loopback ports. A full
/// `all` run (not `--quick`, no `--only`) rewrites BENCHMARKS.md.
#[derive(Debug, Parser)]
#[command(name = "vigil-bench", version)]
pub(crate) struct Cli {
    /// The part to run.
    #[arg(value_enum, default_value_t = Part::All)]
    pub(crate) part: Part,
    /// A short smoke run: three rounds of shorter measurements (not for BENCHMARKS.md).
    #[arg(long)]
    pub(crate) quick: bool,
    /// Run only this macro scenario (and the bare route beside it), in the macro and layer
    /// parts, e.g. `rl-memory`, `session-read`; repeatable. For profiling one layer:
    /// `perf record -g -- vigil-bench macro --only rl-memory`.
    #[arg(long = "only", value_name = "SCENARIO")]
    pub(crate) only: Vec<String>,
    /// Internal: send `--requests` requests to this layer-part app and exit (what callgrind
    /// counts, see `instructions.rs`).
    #[arg(long, hide = true, value_name = "APP")]
    pub(crate) requests_of: Option<String>,
    /// Internal: how many, with `--requests-of`.
    #[arg(long, hide = true, default_value_t = 0)]
    pub(crate) requests: u64,
}

/// A part of the suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Part {
    /// Every part below; writes BENCHMARKS.md.
    All,
    /// Decisions per second: memory vs governor, Redis vs redis-benchmark's EVALSHA.
    Micro,
    /// An axum route under load on loopback, each layer and its peers.
    Macro,
    /// Bytes per item in Redis.
    Memory,
    /// Backend calls under a one-key flood, with and without the deny cache.
    Flood,
    /// Each layer's own cost per request in process, no network.
    Layer,
}

impl Cli {
    /// True when `part` is to run.
    pub(crate) fn runs(&self, part: Part) -> bool {
        self.part == Part::All || self.part == part
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn unknown_parts_and_flags_are_errors_and_help_is_not_a_run() {
        assert!(Cli::try_parse_from(["vigil-bench", "nonsense"]).is_err());
        assert!(Cli::try_parse_from(["vigil-bench", "--frobnicate"]).is_err());
        let help = Cli::try_parse_from(["vigil-bench", "--help"]).unwrap_err();
        assert_eq!(help.kind(), clap::error::ErrorKind::DisplayHelp);
        let cli = Cli::try_parse_from(["vigil-bench", "macro", "--only", "rl-memory", "--quick"])
            .unwrap();
        assert_eq!(cli.part, Part::Macro);
        assert!(cli.quick && cli.only == ["rl-memory"]);
        assert!(cli.runs(Part::Macro) && !cli.runs(Part::Micro));
        assert_eq!(
            Cli::try_parse_from(["vigil-bench"]).unwrap().part,
            Part::All
        );
    }
}
