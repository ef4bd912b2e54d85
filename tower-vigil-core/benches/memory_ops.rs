//! Operations per second of the memory backend's hot paths: the one-key atomic update a
//! rate-limit decision makes (its TTL moving on every write, as GCRA's does), plain `get`, and
//! a two-key `atomic`. One thread; absolute figures are for comparing builds on one machine.
//!
//! `cargo bench -p tower-vigil-core --bench memory_ops`
#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use tower_vigil_core::memory::Value;
use tower_vigil_core::{Backend, MemoryBackend};

const ROUND: Duration = Duration::from_millis(700);

fn rate(label: &str, mut op: impl FnMut(u64)) {
    // Warm up, then count.
    for i in 0..10_000 {
        op(i);
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < ROUND {
        for _ in 0..1000 {
            op(n);
            n += 1;
        }
    }
    let per_sec = n as f64 / start.elapsed().as_secs_f64();
    println!("{label:<44} {:>8.2} M ops/s", per_sec / 1e6);
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let keys: Vec<String> = (0..100_000)
        .map(|i| format!("ratelimit:{{k{i}}}:default"))
        .collect();
    for (label, count) in [("1 hot key", 1usize), ("100,000 keys", keys.len())] {
        let backend = MemoryBackend::new();
        rate(&format!("update, TTL moving ({label})"), |i| {
            let key = &keys[(i as usize) % count];
            backend.update(key, |slot| {
                let n = match slot.value() {
                    Some(Value::Int(n)) => *n,
                    _ => 0,
                };
                slot.set(
                    Value::Int(n + 1),
                    Duration::from_millis(60_000 + (i % 5000)),
                );
            });
        });
        rate(&format!("atomic, one key ({label})"), |i| {
            let key = keys[(i as usize) % count].as_str();
            backend.atomic(&[key], |slots| {
                slots[0].set(Value::Int(1), Duration::from_millis(60_000 + (i % 5000)));
            });
        });
        rate(&format!("get ({label})"), |i| {
            let key = &keys[(i as usize) % count];
            black_box(rt.block_on(backend.get(key)).ok());
        });
    }
    let backend = MemoryBackend::new();
    rate("atomic, two keys (100,000 keys)", |i| {
        let a = keys[(i as usize) % keys.len()].as_str();
        let b = keys[(i as usize + 1) % keys.len()].as_str();
        backend.atomic(&[a, b], |slots| {
            slots[0].set(Value::Int(1), Duration::from_secs(60));
            slots[1].set(Value::Int(2), Duration::from_secs(60));
        });
    });
}
