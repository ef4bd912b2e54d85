//! The machine and the versions the figures were measured with.

use std::process::Command;

pub(crate) struct Machine {
    pub(crate) cpus: usize,
    pub(crate) cpu_model: String,
    pub(crate) memory: String,
    pub(crate) load_average: String,
    pub(crate) date: String,
    /// The commit measured (`VIGIL_BENCH_REVISION`, else `git describe --always --dirty`).
    pub(crate) revision: String,
    pub(crate) rustc: String,
    pub(crate) redis: String,
    pub(crate) wrk: String,
    /// `name version` of the peers and main dependencies, from Cargo.lock.
    pub(crate) crates: Vec<String>,
}

fn first_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|o| {
            let out = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8(out).ok()
        })
        .and_then(|s| s.lines().next().map(str::to_owned))
        .unwrap_or_else(|| "not installed".to_owned())
}

fn proc_field(path: &str, field: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()?.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == field).then(|| v.trim().to_owned())
    })
}

fn locked_versions(names: &[&str]) -> Vec<String> {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"))
        .unwrap_or_default();
    let mut out = Vec::new();
    for name in names {
        let needle = format!("name = \"{name}\"\nversion = \"");
        let versions: Vec<&str> = lock
            .match_indices(&needle)
            .filter_map(|(i, _)| lock[i + needle.len()..].split('"').next())
            .collect();
        if !versions.is_empty() {
            out.push(format!("{name} {}", versions.join(" / ")));
        }
    }
    out
}

impl Machine {
    pub(crate) fn detect() -> Self {
        let memory = proc_field("/proc/meminfo", "MemTotal")
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .map_or_else(
                || "unknown".to_owned(),
                |kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0),
            );
        Self {
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            cpu_model: proc_field("/proc/cpuinfo", "model name")
                .unwrap_or_else(|| "unknown".to_owned()),
            memory,
            load_average: load_average(),
            date: first_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
            revision: std::env::var("VIGIL_BENCH_REVISION").unwrap_or_else(|_| {
                first_line(
                    "git",
                    &[
                        "-C",
                        env!("CARGO_MANIFEST_DIR"),
                        "describe",
                        "--always",
                        "--dirty",
                    ],
                )
            }),
            rustc: first_line("rustc", &["--version"]),
            redis: first_line("redis-server", &["--version"]),
            wrk: first_line("wrk", &["--version"]),
            crates: locked_versions(&[
                "axum",
                "hyper",
                "redis",
                "governor",
                "tower_governor",
                "tower-sessions",
                "tower-sessions-redis-store",
                "fred",
            ]),
        }
    }
}

/// The 1, 5 and 15 minute load averages (others' work on a shared machine shows here).
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
