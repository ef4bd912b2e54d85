//! The targets, each checked against what this run measured.

use crate::flood::FloodResult;
use crate::macro_bench::MacroResult;
use crate::redis_memory::MemoryRow;
use crate::stats::{median_ratio, ratio};

pub(crate) enum Status {
    Met,
    FallsShort,
    NotMeasured,
}

pub(crate) struct Target {
    pub(crate) target: &'static str,
    pub(crate) measured: String,
    pub(crate) status: Status,
}

fn check(target: &'static str, value: f64, ok: bool, measured: String) -> Target {
    let status = if !value.is_finite() {
        Status::NotMeasured
    } else if ok {
        Status::Met
    } else {
        Status::FallsShort
    };
    Target {
        target,
        measured,
        status,
    }
}

pub(crate) fn evaluate(
    macro_result: Option<&MacroResult>,
    memory: Option<&[MemoryRow]>,
    flood: Option<&FloodResult>,
) -> Vec<Target> {
    let r = |a: &str, b: &str| macro_result.map_or(f64::NAN, |m| m.rps_ratio(a, b));
    let mut out = Vec::new();

    let (mem, gov, mem_gov) = (
        r("rl-memory", "bare"),
        r("governor", "bare"),
        r("rl-memory", "governor"),
    );
    out.push(check(
        "Rate limit on memory ≥ 0.95× bare (≥ tower-governor)",
        mem,
        mem >= 0.95 && mem_gov >= 1.0,
        format!(
            "{} bare; tower-governor {} bare; ours / tower-governor {}",
            ratio(mem),
            ratio(gov),
            ratio(mem_gov)
        ),
    ));
    let redis = r("rl-redis", "minimal-evalsha");
    out.push(check(
        "Rate limit on Redis ≥ 0.95× the minimal one-EVALSHA middleware, with headers and all features on",
        redis,
        redis >= 0.95,
        format!(
            "{} the minimal middleware ({} vs {} bare)",
            ratio(redis),
            ratio(r("rl-redis", "bare")),
            ratio(r("minimal-evalsha", "bare"))
        ),
    ));
    let l1 = r("apikey-l1", "bare");
    out.push(check(
        "API key with an L1 hit ≥ 0.95× bare",
        l1,
        l1 >= 0.95,
        format!("{} bare", ratio(l1)),
    ));
    let full = r("vigil-api-redis", "bare");
    out.push(check(
        "The full vigil-api stack without Idempotency-Key ≥ 0.5× bare on Redis",
        full,
        full >= 0.5,
        format!(
            "{} bare (memory: {})",
            ratio(full),
            ratio(r("vigil-api-memory", "bare"))
        ),
    ));
    // Judged against tower-sessions doing what our read does (extend the idle timeout); its
    // default, which never extends a session on a read, is shown beside it.
    let sess = r("session-read", "tower-sessions-read-sliding");
    out.push(check(
        "Session read on Redis ≥ 1.2× tower-sessions' Redis store",
        sess,
        sess >= 1.2,
        format!(
            "{} tower-sessions with the same sliding idle expiry; {} its default, which never \
             extends a session on a read (write: {})",
            ratio(sess),
            ratio(r("session-read", "tower-sessions-read")),
            ratio(r("session-write", "tower-sessions-write"))
        ),
    ));
    let fewer = flood.map_or(f64::NAN, |f| median_ratio(&f.calls_without, &f.calls_with));
    out.push(check(
        "Deny cache: ≥ 10× fewer backend calls under a one-key flood",
        fewer,
        fewer >= 10.0,
        if fewer.is_finite() {
            format!("{fewer:.0}× fewer EVALSHA calls per second")
        } else {
            "–".to_owned()
        },
    ));
    let gcra = memory
        .and_then(|rows| rows.iter().find(|r| r.kind == "GCRA key"))
        .map_or((f64::NAN, f64::NAN), |r| (r.memory_usage, r.per_item));
    out.push(check(
        "GCRA ≤ 100 bytes per key",
        gcra.0,
        gcra.0 <= 100.0,
        if gcra.0.is_finite() {
            format!(
                "MEMORY USAGE {:.0} B ({:.0} B of used_memory per key)",
                gcra.0, gcra.1
            )
        } else {
            "–".to_owned()
        },
    ));
    out
}
