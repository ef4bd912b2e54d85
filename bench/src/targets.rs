//! The targets (issue 15, then the standing ones of earlier issues), each checked
//! against what this run measured. Every target holds on the median of the run's rounds.

use tower_vigil_ratelimit::Algorithm;

use crate::micro::MANY_KEYS;
use crate::report::Results;
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

/// `x` as whole nanoseconds or instructions, `–` when not measured.
fn count(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.0}")
    } else {
        "–".to_owned()
    }
}

pub(crate) fn evaluate(results: &Results) -> Vec<Target> {
    let macro_result = results.macro_result.as_ref();
    let r = |a: &str, b: &str| macro_result.map_or(f64::NAN, |m| m.rps_ratio(a, b));
    let p99 = |a: &str| macro_result.map_or(f64::NAN, |m| m.latency_ratio(a, "bare", true));
    let mut out = Vec::new();

    let (mem, gov, mem_gov) = (
        r("rl-memory", "bare"),
        r("governor", "bare"),
        r("rl-memory", "governor"),
    );
    out.push(check(
        "Rate limit on memory, macro: ≥ 0.97× bare and ≥ tower-governor",
        mem,
        mem >= 0.97 && mem_gov >= 1.0,
        format!(
            "{} bare; tower-governor {} bare; ours / tower-governor {}",
            ratio(mem),
            ratio(gov),
            ratio(mem_gov)
        ),
    ));

    let layer = results.layer_cost.as_ref();
    let added = |id: &str| {
        layer
            .and_then(|l| l.row(id).map(|(_, row)| l.added_ns(row)))
            .unwrap_or(f64::NAN)
    };
    let instr = |id: &str| layer.map_or(f64::NAN, |l| l.added_instructions(id));
    let (ours_ns, gov_ns) = (added("rl-memory"), added("governor"));
    out.push(check(
        "Rate limit on memory, in process: ns added per request ≤ tower-governor's, headers on",
        ours_ns - gov_ns,
        ours_ns <= gov_ns,
        format!(
            "{} ns vs tower-governor {} ns (headers off: {} ns); callgrind instructions added: \
             {} vs {} (headers off {})",
            count(ours_ns),
            count(gov_ns),
            count(added("rl-memory-no-headers")),
            count(instr("rl-memory")),
            count(instr("governor")),
            count(instr("rl-memory-no-headers"))
        ),
    ));

    let micro = |keys: usize| {
        results
            .micro
            .as_ref()
            .and_then(|m| {
                m.memory
                    .iter()
                    .find(|row| row.algorithm == Algorithm::Gcra && row.keys == keys)
            })
            .map_or(f64::NAN, |row| median_ratio(&row.ours, &row.governor))
    };
    let (hot, many) = (micro(1), micro(MANY_KEYS));
    out.push(check(
        "Memory decisions per second, micro (GCRA): ≥ 1.0× governor, 1 hot key and 100k keys",
        hot.min(many),
        hot >= 1.0 && many >= 1.0,
        format!(
            "{} governor (1 hot key); {} (100k keys)",
            ratio(hot),
            ratio(many)
        ),
    ));

    let redis = r("rl-redis", "minimal-evalsha");
    out.push(check(
        "Rate limit on Redis: ≥ 1.2× the minimal one-EVALSHA middleware, every feature on",
        redis,
        redis >= 1.2,
        format!(
            "{} the minimal middleware ({} vs {} bare; with group commit on: {} bare)",
            ratio(redis),
            ratio(r("rl-redis", "bare")),
            ratio(r("minimal-evalsha", "bare")),
            ratio(r("rl-redis-batched", "bare"))
        ),
    ));

    let l1 = r("apikey-l1", "bare");
    out.push(check(
        "API key, L1 hit: ≥ 0.95× bare",
        l1,
        l1 >= 0.95,
        format!(
            "{} bare (callgrind instructions added: {})",
            ratio(l1),
            count(instr("apikey-l1"))
        ),
    ));

    let sess = r("session-read", "tower-sessions-read");
    out.push(check(
        "Session read on Redis: ≥ 1.2× tower-sessions' default read",
        sess,
        sess >= 1.2,
        format!(
            "{} its default read, which never extends a session; {} tower-sessions with the \
             same sliding idle expiry (write: {})",
            ratio(sess),
            ratio(r("session-read", "tower-sessions-read-sliding")),
            ratio(r("session-write", "tower-sessions-write"))
        ),
    ));

    let (full_redis, full_memory) = (r("vigil-api-redis", "bare"), r("vigil-api-memory", "bare"));
    out.push(check(
        "Full vigil-api stack: ≥ 0.5× bare on Redis, ≥ 0.8× on memory",
        full_redis.min(full_memory),
        full_redis >= 0.5 && full_memory >= 0.8,
        format!(
            "{} bare on Redis; {} on memory",
            ratio(full_redis),
            ratio(full_memory)
        ),
    ));

    let (tail_memory, tail_redis) = (p99("vigil-api-memory"), p99("vigil-api-redis"));
    out.push(check(
        "Full stack p99 latency: ≤ 2× bare's on memory, ≤ 2.5× on Redis",
        tail_memory.max(tail_redis),
        tail_memory <= 2.0 && tail_redis <= 2.5,
        format!(
            "{} bare's p99 on memory; {} on Redis",
            ratio(tail_memory),
            ratio(tail_redis)
        ),
    ));

    // Standing targets of earlier issues.
    let fewer = results
        .flood
        .as_ref()
        .map_or(f64::NAN, |f| median_ratio(&f.calls_without, &f.calls_with));
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
    let gcra = results
        .memory
        .as_deref()
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
