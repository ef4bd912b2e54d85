//! The report: Markdown tables printed on stdout and written to BENCHMARKS.md.

use std::fmt::Write as _;

use crate::Settings;
use crate::flood::{self, FloodResult};
use crate::layer_cost::LayerCost;
use crate::machine::Machine;
use crate::macro_bench::MacroResult;
use crate::micro::{MicroResult, med};
use crate::redis_memory::MemoryRow;
use crate::stats::{latency, median_ratio, ratio, si};
use crate::targets::{Status, Target};

pub(crate) struct Results {
    pub(crate) micro: Option<MicroResult>,
    pub(crate) macro_result: Option<MacroResult>,
    pub(crate) memory: Option<Vec<MemoryRow>>,
    pub(crate) flood: Option<FloodResult>,
    pub(crate) layer_cost: Option<LayerCost>,
    pub(crate) elapsed_secs: f64,
}

fn targets(out: &mut String, targets: &[Target]) {
    out.push_str("## Targets\n\n| target | measured | result |\n|---|---|---|\n");
    for t in targets {
        let status = match t.status {
            Status::Met => "**met**",
            Status::FallsShort => "**falls short**",
            Status::NotMeasured => "not measured",
        };
        let _ = writeln!(out, "| {} | {} | {status} |", t.target, t.measured);
    }
    out.push('\n');
}

fn micro(out: &mut String, m: &MicroResult, s: &Settings) {
    let _ = write!(
        out,
        "## Micro: decisions per second\n\n### Memory: ours on `MemoryBackend` vs governor's keyed limiter\n\n\
         One task deciding in a loop, {} ms per measurement, ours and governor alternated, \
         {} rounds; quota 10,000 per second for both (so the hot key is mostly denied, the \
         100,000 keys mostly admitted). Ratio = ours / governor, median of the per-round ratios.\n\n\
         | algorithm | keys | ours | governor | ours / governor |\n|---|---|---|---|---|\n",
        s.micro_run.as_millis(),
        s.rounds
    );
    for r in &m.memory {
        let _ = writeln!(
            out,
            "| {} | {} | {}/s | {}/s | {} |",
            r.algorithm,
            if r.keys == 1 {
                "1 (hot)".to_owned()
            } else {
                si(r.keys as f64)
            },
            si(med(&r.ours)),
            si(med(&r.governor)),
            ratio(median_ratio(&r.ours, &r.governor))
        );
    }
    let _ = write!(
        out,
        "\n### Redis: GCRA through our backend vs `redis-benchmark` EVALSHA of the same script\n\n\
         {} decisions per measurement over 100,000 keys, alternated, {} rounds. Ours: that many \
         tasks on the backend's one multiplexed connection; redis-benchmark: that many \
         connections, the same script (SHA checked) and arguments:\n`{}`\n\n\
         | in flight | ours | redis-benchmark | ours / redis-benchmark |\n|---|---|---|---|\n",
        m.calls_per_redis_run, s.rounds, m.redis_benchmark
    );
    for r in &m.redis {
        let _ = writeln!(
            out,
            "| {} | {}/s | {}/s | {} |",
            r.in_flight,
            si(med(&r.ours)),
            si(med(&r.raw)),
            ratio(median_ratio(&r.ours, &r.raw))
        );
    }
    out.push('\n');
}

fn macro_table(out: &mut String, m: &MacroResult) {
    let _ = write!(
        out,
        "## Macro: an axum 0.8 route under load on loopback\n\n\
         Load: `{}`, every configuration in turn, {} rounds; each ratio is to the bare route \
         measured in the same round (median of the per-round ratios). Layers on Redis share one \
         redis-server; every quota admits the whole load (the allow path, which writes).\n\n\
         | configuration | req/s | req/s vs bare | p50 | p50 vs bare | p99 | p99 vs bare | non-2xx |\n\
         |---|---|---|---|---|---|---|---|\n",
        m.load, m.rounds
    );
    for row in &m.rows {
        let errors: u64 = row.samples.iter().map(|s| s.errors).sum();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            row.label,
            si(MacroResult::median_of(row, |s| s.rps)),
            ratio(m.rps_ratio(row.id, "bare")),
            latency(MacroResult::median_of(row, |s| s.p50_us)),
            ratio(m.latency_ratio(row.id, "bare", false)),
            latency(MacroResult::median_of(row, |s| s.p99_us)),
            ratio(m.latency_ratio(row.id, "bare", true)),
            errors
        );
    }
    for n in &m.notes {
        let _ = writeln!(out, "\nNote: {n}.");
    }
    if !m.redis_commands.is_empty() {
        out.push_str(
            "\nRedis time per command over the whole macro part (`INFO commandstats`; Redis \
             shares the 2 cores with the server and the load generator, so its time per call is \
             throughput lost):\n\n| command | calls | µs per call |\n|---|---|---|\n",
        );
        for (name, calls, usec) in &m.redis_commands {
            let _ = writeln!(out, "| {name} | {} | {usec:.2} |", si(*calls as f64));
        }
    }
    out.push('\n');
}

fn memory(out: &mut String, rows: &[MemoryRow]) {
    out.push_str(
        "## Memory in Redis\n\nItems created through our stores and layers on a fresh \
         redis-server (`FLUSHALL` between kinds). `used_memory` growth divided by the items, and \
         the median `MEMORY USAGE … SAMPLES 0` of 50 `RANDOMKEY`s.\n\n\
         | kind | items | keys | used_memory / item | MEMORY USAGE |\n|---|---|---|---|---|\n",
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0} B | {:.0} B |",
            r.kind,
            si(r.items as f64),
            si(r.keys as f64),
            r.per_item,
            r.memory_usage
        );
    }
    out.push('\n');
}

fn layer_cost_table(out: &mut String, c: &LayerCost, s: &Settings) {
    let _ = write!(
        out,
        "## Layer cost: in process, no network\n\nThe macro part's routers driven through \
         `Service::call` on one task ({} ms per app, apps alternated, {} rounds), the peer \
         address set as axum's `ConnectInfo`: what each layer adds to a request once the \
         kernel's loopback TCP and the load generator (most of the CPU in the macro part) are \
         out of the way. Instructions: `valgrind --tool=callgrind` on one task sending the \
         same requests, the difference between runs of {} and {} requests over their \
         difference (deterministic: the figure to compare layers by on a noisy machine). Under \
         valgrind the CPU's SHA extensions are hidden, so the API-key row counts its SHA-256 in \
         software (about 3,500 instructions of it); the timed runs use the hardware's.\n\n\
         | configuration | ns per request | ns added to the bare route | instructions per request | instructions added |\n|---|---|---|---|---|\n",
        s.layer_run.as_millis(),
        s.rounds,
        crate::instructions::FEW,
        crate::instructions::MORE,
    );
    let counted = c.instructions.as_ref().ok();
    for (i, row) in c.rows.iter().enumerate() {
        let added = if i == 0 {
            "—".to_owned()
        } else {
            format!("{:.0}", c.added_ns(row))
        };
        let (instructions, instructions_added) = match counted {
            Some(n) if i == 0 => (format!("{:.0}", n[0]), "—".to_owned()),
            Some(n) => (format!("{:.0}", n[i]), format!("{:.0}", n[i] - n[0])),
            None => ("–".to_owned(), "–".to_owned()),
        };
        let _ = writeln!(
            out,
            "| {} | {:.0} | {added} | {instructions} | {instructions_added} |",
            row.label,
            med(&row.ns)
        );
    }
    if let Err(why) = &c.instructions {
        let _ = writeln!(out, "\nInstructions not counted: {why}.");
    }
    out.push('\n');
}

fn flood_table(out: &mut String, f: &FloodResult, s: &Settings) {
    let _ = write!(
        out,
        "## Flood: one key over its limit\n\n`RateLimitLayer` on Redis, quota {} per second, \
         one key, {} requests in flight through the tower service (no network), {} s per run, \
         deny cache on and off alternated, {} rounds. Backend calls counted by Redis \
         (`cmdstat_evalsha`).\n\n\
         | deny cache | EVALSHA calls/s | requests/s |\n|---|---|---|\n\
         | on (default) | {} | {} |\n| off | {} | {} |\n\n\
         Fewer backend calls with the deny cache: **{:.0}×** (median of per-round ratios).\n\n",
        flood::QUOTA,
        flood::IN_FLIGHT,
        s.flood_run.as_secs(),
        s.rounds,
        si(med(&f.calls_with)),
        si(med(&f.requests_with)),
        si(med(&f.calls_without)),
        si(med(&f.requests_without)),
        median_ratio(&f.calls_without, &f.calls_with)
    );
}

pub(crate) fn render(
    r: &Results,
    t: &[Target],
    machine: &Machine,
    load_at_end: &str,
    command: &str,
    s: &Settings,
) -> String {
    let mut out = String::from("# Benchmarks\n\n");
    let _ = write!(
        out,
        "Generated by `{command}` on {} at revision {} in {:.0} s (`bench/`, package \
         `vigil-bench`). \
         Every comparison is a ratio of two figures measured side by side in the same run \
         (A B A B …, median of {} rounds); absolute figures are for orientation only: this is \
         a shared {}-core VM.\n\n\
         - Machine: {} × {}, {} RAM, load average at start {}, at the end {}\n\
         - Versions: {}; {}; {}\n- Crates: {}\n\n",
        machine.date,
        machine.revision,
        r.elapsed_secs,
        s.rounds,
        machine.cpus,
        machine.cpus,
        machine.cpu_model,
        machine.memory,
        machine.load_average,
        load_at_end,
        machine.rustc,
        machine.redis,
        machine.wrk,
        machine.crates.join(", ")
    );
    targets(&mut out, t);
    if let Some(m) = &r.micro {
        micro(&mut out, m, s);
    }
    if let Some(m) = &r.macro_result {
        macro_table(&mut out, m);
    }
    if let Some(m) = &r.memory {
        memory(&mut out, m);
    }
    if let Some(c) = &r.layer_cost {
        layer_cost_table(&mut out, c, s);
    }
    if let Some(f) = &r.flood {
        flood_table(&mut out, f, s);
    }
    let notes = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/PROFILES.md"));
    if let Ok(notes) = notes {
        out.push_str(notes.trim_end());
        out.push('\n');
    }
    out
}
