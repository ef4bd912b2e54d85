//! The in-Rust load generator: like `wrk -t1`, one OS thread (its own single-threaded tokio
//! runtime) driving a fixed number of keep-alive connections for a bounded time.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http_body_util::BodyExt;

use super::client::{build, connect};
use super::{Load, Sample};

pub(super) async fn run(
    addr: SocketAddr,
    load: &Load,
    connections: usize,
    run: Duration,
) -> Sample {
    let load = load.clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("client runtime");
        let _ = tx.send(rt.block_on(drive(addr, load, connections, run)));
    });
    rx.await.unwrap_or_default()
}

async fn drive(addr: SocketAddr, load: Load, connections: usize, run: Duration) -> Sample {
    let started = Instant::now();
    let deadline = started + run;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let load = load.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(1 << 16);
            let mut errors = 0u64;
            let Ok(mut sender) = connect(addr).await else {
                return (latencies, 1);
            };
            while Instant::now() < deadline {
                let sent = Instant::now();
                let ok = match sender.send_request(build(addr, &load)).await {
                    Ok(res) => {
                        let success = res.status().is_success();
                        success & res.into_body().collect().await.is_ok()
                    }
                    Err(_) => false,
                };
                latencies.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
                if !ok {
                    errors += 1;
                    if sender.ready().await.is_err() {
                        match connect(addr).await {
                            Ok(s) => sender = s,
                            Err(_) => break,
                        }
                    }
                }
            }
            (latencies, errors)
        });
    }
    let mut all = Vec::new();
    let mut errors = 0;
    while let Some(joined) = tasks.join_next().await {
        if let Ok((l, e)) = joined {
            all.extend(l);
            errors += e;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map_or(0.0, |&v| f64::from(v))
    };
    Sample {
        rps: all.len() as f64 / elapsed,
        p50_us: pct(0.50),
        p99_us: pct(0.99),
        errors,
    }
}
