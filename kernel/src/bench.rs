//! In-kernel benchmarks, chosen with `bench=NAME`: the executor's own costs.
//!
//! Each prints `bench NAME: ops=N ticks=T ns_per_op=X` where ticks are of the `time`
//! counter. Under `-icount shift=0` one tick is 100 retired instructions, so the
//! host harness turns ticks into instructions per operation.

use core::time::Duration;

use executor::yield_now;

use crate::runtime::{sleep, spawn};

const YIELDS: u64 = 20_000;
const SPAWNS: u64 = 5_000;

fn report(name: &str, ops: u64, ticks: u64) {
    let nanos = ticks as u128 * 1_000_000_000 / arch::timer::ticks_per_second() as u128;
    println!(
        "bench {name}: ops={ops} ticks={ticks} ns_per_op={} ticks_per_second={}",
        nanos / ops as u128,
        arch::timer::ticks_per_second()
    );
}

/// Runs benchmark `name`; returns the exit status.
pub async fn run(name: &str) -> u16 {
    match name {
        "yield" => {
            // Warm up, then time wake+poll of one task yielding alone.
            for _ in 0..100 {
                yield_now().await;
            }
            let start = arch::timer::ticks();
            for _ in 0..YIELDS {
                yield_now().await;
            }
            report("yield", YIELDS, arch::timer::ticks() - start);
        }
        "spawn-join" => {
            for _ in 0..100 {
                spawn(async { 1u64 }).await;
            }
            let start = arch::timer::ticks();
            let mut sum = 0;
            for _ in 0..SPAWNS {
                sum += spawn(async { 1u64 }).await;
            }
            report("spawn-join", SPAWNS, arch::timer::ticks() - start);
            assert_eq!(sum, SPAWNS);
        }
        "idle" => {
            // The host measures QEMU's CPU time while the guest sleeps.
            println!("bench idle: sleeping 5 s");
            sleep(Duration::from_secs(5)).await;
            println!("bench idle: done");
        }
        _ => {
            println!("error: unknown benchmark `{name}`");
            return 2;
        }
    }
    0
}
