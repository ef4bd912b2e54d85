//! The decision's [`CellTwin`]: a one-policy GCRA decision on the backend's clock is a function
//! of the key's theoretical arrival time alone, and its write is a later TAT with a TTL of
//! `TAT − now + 1 s`, which is the cell's deadline rule (`TAT + 1 s`). The memory backend then
//! decides it by compare-and-swap, without locking the key. Everything else (the other
//! algorithms, several policies, the app's clock, a write that deletes) is the full twin's.
//!
//! Checked against the Lua by the same property test as the full twin (`scripts_match`):
//! the memory backend runs this path whenever it applies.

use tower_vigil_core::BackendResult;
use tower_vigil_core::script::{Arg, Args, CellCall, CellStep, CellTwin};

use super::args::{LEADING_ARGS, POLICY_ARGS};
use super::outcomes::Outcomes;
use super::twin::{Leading, SLACK, capped, leading, policy_at};
use crate::algorithm::{Mode, Stored, Write, gcra};
use crate::quota::Algorithm;

/// The cell twin of [`DECIDE`](super::DECIDE).
pub(super) const CELL: CellTwin<Outcomes> = CellTwin::new(SLACK, applies, decide);

/// One GCRA policy, on the backend's clock.
fn applies(args: Args<'_>) -> bool {
    matches!(
        args.as_slice(),
        [Arg::Bytes([]), _, _, Arg::Bytes(b"g"), _, _, _]
    )
}

fn decide(call: &CellCall<'_>) -> BackendResult<CellStep<Outcomes>> {
    let args = call.args();
    debug_assert_eq!(args.len(), LEADING_ARGS + POLICY_ARGS);
    // Invalid arguments are the full twin's to refuse, with its errors.
    let Ok(Leading { now, cost, mode }) = leading(args, call.now_micros()) else {
        return Ok(CellStep::Full);
    };
    let Ok((Algorithm::Gcra, p)) = policy_at(args, LEADING_ARGS) else {
        return Ok(CellStep::Full);
    };
    let stored = call.current().map_or(Stored::None, Stored::Tat);
    let (outcome, write) = gcra::eval(p, stored, now, capped(p, cost), mode);
    let applied = mode.always_writes() || (mode == Mode::Acquire && outcome.allowed);
    Ok(match write {
        _ if !applied => CellStep::Keep(Outcomes::One(outcome)),
        Write::Keep => CellStep::Keep(Outcomes::One(outcome)),
        Write::Tat { tat, .. } => CellStep::Set(Outcomes::One(outcome), tat),
        _ => CellStep::Full,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;
    use tower_vigil_core::memory::Value;
    use tower_vigil_core::script::{Arg, Script};
    use tower_vigil_core::{Backend, MemoryBackend};

    use super::super::args::{leading_args, policy_args};
    use super::super::outcomes::Outcomes;
    use super::super::script::decode;
    use super::super::{DECIDE, twin};
    use crate::algorithm::{LUA, Mode};
    use crate::{Acquire, Policy, Quota};

    /// The decision without its cell twin: always the full twin, on a locked slot.
    static FULL: Script<Outcomes> = Script::new("ratelimit.decide", LUA, twin::decide, decode);

    fn args(policy: &Policy, cost: u32, mode: Mode) -> Vec<Arg<'static>> {
        let p = [policy.clone()];
        let req = Acquire::new("k", &p).cost(cost).mode(mode);
        let mut args = leading_args(&req).to_vec();
        args.extend(policy_args(policy));
        args
    }

    fn state(backend: &MemoryBackend, key: &str) -> Option<(i64, Duration)> {
        backend.read(key, |v| match v {
            Some((Value::Int(n), ttl)) => Some((*n, ttl)),
            _ => None,
        })
    }

    fn mode() -> impl Strategy<Value = Mode> {
        prop_oneof![
            6 => Just(Mode::Acquire),
            1 => Just(Mode::Peek),
            1 => Just(Mode::Charge),
            2 => Just(Mode::Refund),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Side by side on one backend (one clock, paused), key `cell` through the cell path
        /// and key `full` through the full twin (itself checked against the Lua by
        /// `tests/scripts_match.rs`): every answer, value and TTL equal, step after step.
        #[test]
        fn the_cell_path_decides_as_the_full_twin(
            limit in 1u32..12,
            period_ms in prop::sample::select(vec![333u64, 1_000, 1_500, 7_000, 60_000]),
            burst in prop::option::of(1u32..15),
            steps in prop::collection::vec((0u64..400_000, 0u32..14, mode()), 1..40),
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()
                .unwrap();
            runtime.block_on(async {
                let mut quota = Quota::new(limit, Duration::from_millis(period_ms));
                if let Some(b) = burst {
                    quota = quota.burst(b);
                }
                let policy = Policy::new("p", quota).unwrap();
                let backend = MemoryBackend::new();
                for (advance, cost, mode) in steps {
                    tokio::time::advance(Duration::from_micros(advance)).await;
                    let args = args(&policy, cost, mode);
                    let cell = backend.run(&DECIDE, &["cell"], &args).await.unwrap();
                    let full = backend.run(&FULL, &["full"], &args).await.unwrap();
                    prop_assert_eq!(&cell, &full, "{:?} cost {}", mode, cost);
                    prop_assert_eq!(state(&backend, "cell"), state(&backend, "full"));
                }
                Ok(())
            })?;
        }
    }

    /// The path the tests above compare is taken: a one-policy GCRA acquire on the backend's
    /// clock is the cell's, and an admission is a write of the new TAT.
    #[test]
    fn a_gcra_acquire_on_the_backends_clock_is_decided_by_the_cell() {
        use tower_vigil_core::script::{Args, CellCall, CellStep};
        let policy = Policy::new("p", Quota::per_second(10)).unwrap();
        let args = args(&policy, 1, Mode::Acquire);
        assert!(super::CELL.applies(Args::new(&args)));
        let now = 1_700_000_000_000_000;
        let step = super::CELL
            .decide(&CellCall::new(Args::new(&args), now, None))
            .unwrap();
        assert!(
            matches!(step, CellStep::Set(_, tat) if tat == i64::try_from(now).unwrap() + 100_000),
            "{step:?}"
        );
        // The app's clock, or another algorithm: the full twin's.
        let at = Acquire::new("k", std::slice::from_ref(&policy)).at(now);
        let mut with_clock = leading_args(&at).to_vec();
        with_clock.extend(policy_args(&policy));
        assert!(!super::CELL.applies(Args::new(&with_clock)));
        let fixed =
            Policy::with_algorithm("p", Quota::per_second(10), crate::Algorithm::FixedWindow)
                .unwrap();
        assert!(!super::CELL.applies(Args::new(&self::args(&fixed, 1, Mode::Acquire))));
    }

    /// Many threads on one key through the cell path: the compare-and-swap admits exactly
    /// the burst, no more (a lost update would admit more), no fewer. Twenty keys, each
    /// raced by eight threads released together, so a lost update has many chances to show.
    #[test]
    fn concurrent_decisions_on_one_cell_admit_exactly_the_burst() {
        let backend = MemoryBackend::new();
        let policy = Policy::new("p", Quota::per_hour(500)).unwrap();
        let args = args(&policy, 1, Mode::Acquire);
        for round in 0..20 {
            let key = format!("hot{round}");
            let start = std::sync::Barrier::new(8);
            let admitted: usize = std::thread::scope(|s| {
                let workers: Vec<_> = (0..8)
                    .map(|_| {
                        s.spawn(|| {
                            start.wait();
                            (0..250)
                                .filter(|_| {
                                    let out = backend.run_now(&DECIDE, &[&key], &args).unwrap();
                                    out.unwrap().as_slice()[0].allowed
                                })
                                .count()
                        })
                    })
                    .collect();
                workers.into_iter().map(|w| w.join().unwrap()).sum()
            });
            assert_eq!(admitted, 500, "round {round}");
        }
    }
}
