//! `vigil doctor`: what in a Redis deployment can break tower-vigil's guarantees. Read-only:
//! `INFO`, `EVAL` of a trivial script, `CLUSTER INFO`/`NODES`, `SENTINEL CKQUORUM`, and a
//! paced `SCAN` with `TTL` and `MEMORY USAGE` (never `KEYS`).

mod nodes;
mod scan;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use serde::Serialize;

use self::nodes::{Node, QuorumCheck};
use self::scan::{Pacer, ScanReport};
use crate::backend::{Target, Topology};
use crate::{Outcome, output};

/// Redis' number of cluster slots.
const SLOTS: u64 = 16384;

#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    /// Keys per second the scan may examine (over every master), so it never hurts
    /// production.
    #[arg(long, default_value_t = 5000, value_name = "KEYS")]
    scan_rate: u64,
    /// Keys per concern whose `MEMORY USAGE` is sampled.
    #[arg(long, default_value_t = 100, value_name = "KEYS")]
    sample: u64,
    /// Skip the key scan (servers, eviction, cluster and sentinels only).
    #[arg(long)]
    no_scan: bool,
}

/// One server's findings.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct NodeReport {
    node: String,
    reachable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    scripts: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    maxmemory: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    eviction_policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_slots_ok: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    db_keys: Option<u64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SentinelReport {
    sentinel: String,
    ok: bool,
    answer: String,
}

impl From<QuorumCheck> for SentinelReport {
    fn from(q: QuorumCheck) -> Self {
        Self {
            sentinel: q.sentinel,
            ok: q.ok,
            answer: q.answer,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DoctorReport {
    ok: bool,
    backend: &'static str,
    prefix: String,
    nodes: Vec<NodeReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sentinels: Vec<SentinelReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scan: Option<ScanReport>,
    problems: Vec<String>,
}

/// The value of `field` in an `INFO` reply.
fn info_field<'a>(info: &'a str, field: &str) -> Option<&'a str> {
    info.lines().find_map(|l| {
        l.strip_prefix(field)
            .and_then(|r| r.strip_prefix(':'))
            .map(str::trim)
    })
}

/// `major.minor` of a version string, for the 6.2 floor.
fn at_least_6_2(version: &str) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (6, 2)
}

fn evicts(policy: &str) -> bool {
    policy.starts_with("allkeys-") || policy.starts_with("volatile-")
}

async fn check_node(
    node: &Node,
    target: &Target,
    problems: &mut Vec<String>,
) -> (NodeReport, Option<redis::aio::MultiplexedConnection>) {
    let mut r = NodeReport {
        node: node.name.clone(),
        ..NodeReport::default()
    };
    let mut con = match nodes::connect(&node.url, target.timeout).await {
        Ok(c) => c,
        Err(e) => {
            problems.push(format!("{} does not answer: {e}", node.name));
            return (r, None);
        }
    };
    r.reachable = true;
    match redis::cmd("INFO")
        .arg("server")
        .query_async::<String>(&mut con)
        .await
    {
        Ok(info) => {
            r.version = info_field(&info, "redis_version").map(str::to_owned);
            if let Some(v) = &r.version
                && !at_least_6_2(v)
            {
                problems.push(format!(
                    "{} runs Redis {v}: tower-vigil needs 6.2 or later",
                    node.name
                ));
            }
        }
        Err(e) => problems.push(format!("{}: INFO server: {e}", node.name)),
    }
    match redis::cmd("EVAL")
        .arg("return 1")
        .arg(0)
        .query_async::<i64>(&mut con)
        .await
    {
        Ok(1) => r.scripts = true,
        Ok(other) => problems.push(format!("{}: EVAL returned {other}, not 1", node.name)),
        Err(e) => problems.push(format!(
            "{} cannot run Lua scripts (EVAL: {e}): every tower-vigil operation is a script",
            node.name
        )),
    }
    match redis::cmd("INFO")
        .arg("memory")
        .query_async::<String>(&mut con)
        .await
    {
        Ok(info) => {
            r.maxmemory = info_field(&info, "maxmemory").and_then(|v| v.parse().ok());
            r.eviction_policy = info_field(&info, "maxmemory_policy").map(str::to_owned);
            if let Some(p) = &r.eviction_policy
                && evicts(p)
            {
                let max = match r.maxmemory {
                    Some(0) | None => {
                        "no maxmemory yet (it evicts as soon as one is set)".to_owned()
                    }
                    Some(m) => format!("maxmemory {}", output::bytes(m)),
                };
                problems.push(format!(
                    "{} runs maxmemory-policy {p} with {max}: once full it evicts tower-vigil \
                     keys (every one has a TTL, so volatile-* policies evict them as readily as \
                     allkeys-*): an evicted idempotency record lets a retry execute the request \
                     again, an evicted lock is taken by a second holder, an evicted session \
                     logs its user out and an evicted rate-limit counter starts over. Set \
                     maxmemory-policy noeviction (CONFIG SET maxmemory-policy noeviction, and \
                     in redis.conf) with enough memory: a full Redis then refuses writes and \
                     each layer answers per its failure policy instead of losing state",
                    node.name
                ));
            }
        }
        Err(e) => problems.push(format!("{}: INFO memory: {e}", node.name)),
    }
    if matches!(target.topology, Topology::Cluster(_)) {
        match redis::cmd("CLUSTER")
            .arg("INFO")
            .query_async::<String>(&mut con)
            .await
        {
            Ok(info) => {
                r.cluster_state = info_field(&info, "cluster_state").map(str::to_owned);
                r.cluster_slots_ok =
                    info_field(&info, "cluster_slots_ok").and_then(|v| v.parse().ok());
                if r.cluster_state.as_deref() != Some("ok") {
                    problems.push(format!(
                        "{}: cluster_state is {}",
                        node.name,
                        r.cluster_state.as_deref().unwrap_or("unknown")
                    ));
                }
                if r.cluster_slots_ok != Some(SLOTS) {
                    problems.push(format!(
                        "{}: only {} of {SLOTS} slots are served (cluster_slots_ok): keys in \
                         the others fail",
                        node.name,
                        r.cluster_slots_ok.unwrap_or(0)
                    ));
                }
            }
            Err(e) => problems.push(format!("{}: CLUSTER INFO: {e}", node.name)),
        }
    }
    r.db_keys = redis::cmd("DBSIZE").query_async::<u64>(&mut con).await.ok();
    (r, Some(con))
}

pub(crate) async fn run(target: &Target, args: &DoctorArgs, json: bool) -> Outcome {
    let discovery = nodes::discover(target).await;
    let mut problems = discovery.problems;
    let mut reports = Vec::new();
    let mut connections = Vec::new();
    for node in &discovery.masters {
        let (r, con) = check_node(node, target, &mut problems).await;
        reports.push(r);
        if let Some(con) = con {
            connections.push((node.name.clone(), con));
        }
    }
    let scan = if args.no_scan {
        None
    } else {
        let total: u64 = reports.iter().filter_map(|r| r.db_keys).sum();
        let bar = scan::progress(total, !json && std::io::stdout().is_terminal());
        let mut pacer = Pacer::new(args.scan_rate);
        let batch = args.scan_rate.clamp(10, 1000);
        let mut report = ScanReport::default();
        let started = Instant::now();
        for (name, con) in &mut connections {
            if let Err(e) = scan::walk(
                con,
                &target.prefix,
                args.sample,
                batch,
                &mut pacer,
                &bar,
                &mut report,
            )
            .await
            {
                problems.push(format!("{name}: the scan failed: {e}"));
            }
        }
        bar.finish_and_clear();
        report.seconds = started.elapsed().as_secs_f64();
        scan::estimate(&mut report);
        if report.keys_without_ttl > 0 {
            problems.push(format!(
                "{} key(s) under {:?} have no TTL (tower-vigil writes none): they never \
                 expire; first: {}",
                report.keys_without_ttl,
                format!("{}:", target.prefix),
                report.without_ttl.join(", ")
            ));
        }
        Some(report)
    };
    let report = DoctorReport {
        ok: problems.is_empty(),
        backend: target.topology.name(),
        prefix: target.prefix.clone(),
        nodes: reports,
        sentinels: discovery.quorum.into_iter().map(Into::into).collect(),
        scan,
        problems,
    };
    if json {
        output::json(&report);
    } else {
        print_human(&report);
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_human(r: &DoctorReport) {
    println!("backend {} (prefix {:?})\n", r.backend, r.prefix);
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let rows: Vec<Vec<String>> = r
        .nodes
        .iter()
        .map(|n| {
            let mut row = vec![
                n.node.clone(),
                if n.reachable {
                    opt(&n.version)
                } else {
                    "unreachable".into()
                },
                if n.scripts { "ok" } else { "FAIL" }.to_owned(),
                n.maxmemory.map_or("-".into(), |m| {
                    if m == 0 {
                        "unlimited".into()
                    } else {
                        output::bytes(m)
                    }
                }),
                opt(&n.eviction_policy),
            ];
            if r.backend == "redis-cluster" {
                row.push(format!(
                    "{} ({}/{SLOTS} slots)",
                    opt(&n.cluster_state),
                    n.cluster_slots_ok.unwrap_or(0)
                ));
            }
            row
        })
        .collect();
    let mut header = vec!["NODE", "VERSION", "EVAL", "MAXMEMORY", "POLICY"];
    if r.backend == "redis-cluster" {
        header.push("CLUSTER");
    }
    output::table(&header, &rows);
    if !r.sentinels.is_empty() {
        println!();
        let rows: Vec<Vec<String>> = r
            .sentinels
            .iter()
            .map(|s| {
                vec![
                    s.sentinel.clone(),
                    if s.ok { "ok" } else { "FAIL" }.into(),
                    s.answer.clone(),
                ]
            })
            .collect();
        output::table(&["SENTINEL", "QUORUM", "ANSWER"], &rows);
    }
    if let Some(scan) = &r.scan {
        println!();
        let rows: Vec<Vec<String>> = scan
            .concerns
            .iter()
            .map(|(c, s)| {
                vec![
                    c.clone(),
                    s.keys.to_string(),
                    s.sampled.to_string(),
                    s.sampled_bytes
                        .checked_div(s.sampled)
                        .map_or("-".into(), output::bytes),
                    output::bytes(s.estimated_bytes),
                ]
            })
            .collect();
        if rows.is_empty() {
            println!("no keys under the prefix");
        } else {
            output::table(
                &["CONCERN", "KEYS", "SAMPLED", "AVG SIZE", "EST. MEMORY"],
                &rows,
            );
        }
        println!(
            "\n{} key(s) under the prefix, {} without a TTL; scanned in {:.1}s",
            scan.keys, scan.keys_without_ttl, scan.seconds
        );
    }
    println!();
    if r.problems.is_empty() {
        println!("no problems found");
    } else {
        for p in &r.problems {
            println!("problem: {p}");
        }
    }
}
