//! The key walk of `doctor`: `SCAN … MATCH <prefix>:*` on each master (never `KEYS`), the TTL
//! of every key found and `MEMORY USAGE` of a sample per concern, paced to `--scan-rate` keys
//! per second so it never competes with production traffic, with a progress bar on a
//! terminal.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use redis::aio::MultiplexedConnection;
use serde::Serialize;

/// Keys with no TTL reported by name, at most.
const MAX_NAMED: usize = 20;

/// Per concern: how many keys, and the memory of a sample.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConcernStats {
    pub(crate) keys: u64,
    pub(crate) sampled: u64,
    pub(crate) sampled_bytes: u64,
    /// `sampled_bytes / sampled × keys`.
    pub(crate) estimated_bytes: u64,
}

/// What the walk found, over every master.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ScanReport {
    pub(crate) keys: u64,
    pub(crate) keys_without_ttl: u64,
    /// The first of them, by name.
    pub(crate) without_ttl: Vec<String>,
    pub(crate) concerns: BTreeMap<String, ConcernStats>,
    pub(crate) examined: u64,
    pub(crate) seconds: f64,
}

/// Paces the walk: `rate` keys per second, counted as the keys a `SCAN` call examines plus
/// the keys it returns (one `TTL` each).
pub(crate) struct Pacer {
    rate: u64,
    start: Instant,
    spent: u64,
}

impl Pacer {
    pub(crate) fn new(rate: u64) -> Self {
        Self {
            rate: rate.max(1),
            start: Instant::now(),
            spent: 0,
        }
    }

    /// Counts `n` keys and sleeps until the rate allows them.
    pub(crate) async fn spend(&mut self, n: u64) {
        self.spent += n;
        let due = Duration::from_secs_f64(self.spent as f64 / self.rate as f64);
        let elapsed = self.start.elapsed();
        if due > elapsed {
            tokio::time::sleep(due - elapsed).await;
        }
    }
}

/// The progress bar: `total` keys to examine; hidden when `visible` is false.
pub(crate) fn progress(total: u64, visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total.max(1));
    let style = ProgressStyle::with_template(
        "{spinner} scanning {bar:30} {pos}/{len} keys examined, {msg} ({per_sec}, eta {eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// The concern of a key: its first segment after `<prefix>:`.
pub(crate) fn concern(prefix: &str, key: &str) -> String {
    let rest = key
        .strip_prefix(prefix)
        .and_then(|r| r.strip_prefix(':'))
        .unwrap_or(key);
    let end = rest.find([':', '{']).unwrap_or(rest.len());
    if end == 0 {
        "(none)".to_owned()
    } else {
        rest[..end].to_owned()
    }
}

/// Walks one master's keys under `prefix`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn walk(
    con: &mut MultiplexedConnection,
    prefix: &str,
    sample: u64,
    batch: u64,
    pacer: &mut Pacer,
    bar: &ProgressBar,
    report: &mut ScanReport,
) -> Result<(), String> {
    let pattern = format!("{}:*", escape_glob(prefix));
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(batch)
            .query_async(con)
            .await
            .map_err(|e| format!("SCAN: {e}"))?;
        report.examined += batch;
        bar.inc(batch);
        if !keys.is_empty() {
            let mut ttls = redis::pipe();
            for k in &keys {
                ttls.cmd("TTL").arg(k);
            }
            let ttls: Vec<i64> = ttls
                .query_async(con)
                .await
                .map_err(|e| format!("TTL: {e}"))?;
            let mut to_sample = Vec::new();
            for (k, ttl) in keys.iter().zip(ttls) {
                if ttl == -2 {
                    continue; // expired between SCAN and TTL
                }
                report.keys += 1;
                if ttl == -1 {
                    report.keys_without_ttl += 1;
                    if report.without_ttl.len() < MAX_NAMED {
                        report.without_ttl.push(k.clone());
                    }
                }
                let c = concern(prefix, k);
                let stats = report.concerns.entry(c.clone()).or_default();
                stats.keys += 1;
                if stats.sampled + (to_sample.iter().filter(|(n, _)| *n == c).count() as u64)
                    < sample
                {
                    to_sample.push((c, k.clone()));
                }
            }
            if !to_sample.is_empty() {
                let mut usage = redis::pipe();
                for (_, k) in &to_sample {
                    usage
                        .cmd("MEMORY")
                        .arg("USAGE")
                        .arg(k)
                        .arg("SAMPLES")
                        .arg(0);
                }
                let sizes: Vec<Option<u64>> = usage
                    .query_async(con)
                    .await
                    .map_err(|e| format!("MEMORY USAGE: {e}"))?;
                for ((c, _), size) in to_sample.iter().zip(sizes) {
                    if let (Some(size), Some(stats)) = (size, report.concerns.get_mut(c)) {
                        stats.sampled += 1;
                        stats.sampled_bytes += size;
                    }
                }
            }
            bar.set_message(format!("{} under the prefix", report.keys));
        }
        pacer.spend(batch + keys.len() as u64).await;
        cursor = next;
        if cursor == 0 {
            return Ok(());
        }
    }
}

/// Finishes the per-concern estimates.
pub(crate) fn estimate(report: &mut ScanReport) {
    for s in report.concerns.values_mut() {
        s.estimated_bytes = s
            .sampled_bytes
            .checked_div(s.sampled)
            .map_or(0, |avg| avg * s.keys);
    }
}

/// `prefix` with the glob characters of `SCAN MATCH` escaped.
fn escape_glob(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len());
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concerns_are_the_first_segment() {
        assert_eq!(
            concern("vigil", "vigil:ratelimit:{ip:1}:default"),
            "ratelimit"
        );
        assert_eq!(concern("vigil", "vigil:idempotency:{abc}"), "idempotency");
        assert_eq!(concern("vigil", "vigil:session:user:{u}"), "session");
        assert_eq!(concern("vigil", "vigil:stray"), "stray");
        assert_eq!(escape_glob("a*b[c]"), "a\\*b\\[c\\]");
    }
}
