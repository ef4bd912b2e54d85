//! Instructions per request, counted by callgrind: a figure that does not move with the
//! machine's load, beside the timed ones, so a ratio between two layers can be trusted on a
//! shared 2-core VM.
//!
//! Each app of the layer part is run in a child process of this very binary (the hidden
//! `--requests-of APP --requests N`) under `valgrind --tool=callgrind`, once with [`FEW`] and
//! once with [`MORE`] requests; the figure is the difference of the two totals over the
//! difference of the counts, so start-up, building the app and the warm-up cancel out.

use std::process::{Command, ExitCode};

use crate::layer_cost;

/// Requests of the shorter and the longer run.
pub(crate) const FEW: u64 = 2_000;
pub(crate) const MORE: u64 = 12_000;

/// Instructions per request of each app in `ids` (the layer part's ids), or why they could not
/// be counted.
pub(crate) async fn count_all(ids: &[&'static str]) -> Result<Vec<f64>, String> {
    let ids = ids.to_vec();
    tokio::task::spawn_blocking(move || {
        ids.iter()
            .map(|id| {
                let (few, more) = (count(id, FEW)?, count(id, MORE)?);
                let per = more.saturating_sub(few) as f64 / (MORE - FEW) as f64;
                eprintln!("layer instructions: {id:<22} {per:>8.0} per request");
                Ok(per)
            })
            .collect()
    })
    .await
    .map_err(|e| format!("the counting task failed: {e}"))?
}

/// Instructions callgrind counts in a child sending `n` requests to app `id`.
fn count(id: &str, n: u64) -> Result<u64, String> {
    let exe = std::env::current_exe().map_err(|e| format!("no path to this binary: {e}"))?;
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(exe)
        .args(["--requests-of", id, "--requests", &n.to_string()])
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "valgrind is not installed".to_owned(),
            _ => format!("valgrind did not start: {e}"),
        })?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        return Err(format!(
            "callgrind run of {id} failed: {}",
            tail.join(" / ")
        ));
    }
    collected(&stderr).ok_or_else(|| format!("no instruction count in callgrind's output for {id}"))
}

/// The total callgrind prints as `==pid== Collected : 123456`.
fn collected(stderr: &str) -> Option<u64> {
    stderr
        .lines()
        .find_map(|l| l.split_once("Collected :").map(|(_, n)| n.trim()))
        .and_then(|n| n.parse().ok())
}

/// The child: sends `n` requests to the app `id` on one thread, then exits.
pub(crate) fn child(id: &str, n: u64) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let Some(app) = layer_cost::only(id).await else {
            eprintln!("no layer-part app named {id}");
            return ExitCode::from(2);
        };
        layer_cost::send(&app, n).await;
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::collected;

    #[test]
    fn the_total_is_read_from_callgrinds_summary() {
        let out = "==42== Events    : Ir\n==42== Collected : 1234567\n==42==\n==42== I   refs:      1,234,567\n";
        assert_eq!(collected(out), Some(1_234_567));
        assert_eq!(collected("==42== I   refs: 5"), None);
    }
}
