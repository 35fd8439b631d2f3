//! `bench-host`: the coros host executor side by side with tokio (current_thread) and
//! async-executor, in one process and one run.
//!
//! The question it answers is whether the coros executor's wake, poll and spawn paths
//! are cheap compared with well-tuned peers on the same machine at the same moment, so
//! every workload runs on all three executors on the calling thread, and within each
//! repetition the executors take turns (coros, tokio, async-executor, then the next
//! repetition) so that host noise falls on all of them alike. The report gives the
//! median ns per operation and the ratio of each peer to coros.
//!
//! Usage: `cargo run --release -p bench-host -- [--quick] [--json PATH]`.

mod channel;
mod contenders;
mod report;
mod workload;

use std::path::PathBuf;

use clap::Parser;

use contenders::{AsyncExecutor, Coros, Tokio};
use report::{Series, WorkloadResult};
use workload::{Contender, Workload};

/// Repetitions of each workload in a full run (odd, so the median is one sample).
const REPETITIONS: usize = 11;
/// Repetitions with `--quick`.
const QUICK_REPETITIONS: usize = 3;
/// Operations per repetition are divided by this with `--quick`.
const QUICK_DIVISOR: u64 = 10;

/// Operations per repetition in a full run.
fn operations(workload: Workload) -> u64 {
    match workload {
        Workload::Yield => 1_000_000,
        Workload::SpawnJoin => 200_000,
        Workload::PingPong => 500_000,
    }
}

/// Compare the coros executor with tokio and async-executor on the host.
#[derive(Parser)]
#[command(name = "bench-host")]
struct Arguments {
    /// 3 repetitions of a tenth of the operations (a smoke test, not a measurement).
    #[arg(long)]
    quick: bool,
    /// Also write the figures and the host description to this file as JSON.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Run only these workloads (yield, spawn+join, ping-pong); default: all.
    #[arg(long = "only", value_name = "WORKLOAD")]
    only: Vec<String>,
    /// Run only these executors (coros, tokio, async-executor), e.g. to profile one;
    /// default: all. Ratios need coros in the run.
    #[arg(long = "executor", value_name = "EXECUTOR")]
    executors: Vec<String>,
    /// Operations per repetition for every workload, instead of the defaults (for
    /// profiling with a small count).
    #[arg(long, value_name = "N")]
    operations: Option<u64>,
}

fn main() {
    let arguments = Arguments::parse();
    let repetitions = if arguments.quick {
        QUICK_REPETITIONS
    } else {
        REPETITIONS
    };
    let workloads: Vec<Workload> = Workload::ALL
        .into_iter()
        .filter(|workload| {
            arguments.only.is_empty() || arguments.only.iter().any(|name| name == workload.name())
        })
        .collect();
    if workloads.is_empty() {
        eprintln!("bench-host: no workload matches {:?}", arguments.only);
        std::process::exit(2);
    }

    // Coros first: it is the baseline of every ratio.
    let mut contenders: Vec<Box<dyn Contender>> = vec![
        Box::new(Coros::new()),
        Box::new(Tokio::new()),
        Box::new(AsyncExecutor::new()),
    ];
    contenders.retain(|contender| {
        arguments.executors.is_empty()
            || arguments
                .executors
                .iter()
                .any(|name| name == contender.name())
    });
    if contenders.is_empty() {
        eprintln!("bench-host: no executor matches {:?}", arguments.executors);
        std::process::exit(2);
    }

    let mut results = Vec::new();
    for workload in workloads {
        let operations = arguments.operations.unwrap_or_else(|| {
            let full = operations(workload);
            if arguments.quick {
                full / QUICK_DIVISOR
            } else {
                full
            }
        });
        eprintln!(
            "{}: {repetitions} x {operations} operations",
            workload.name()
        );
        warm_up(&mut contenders, workload, operations);
        let mut series: Vec<Series> = contenders
            .iter()
            .map(|contender| Series {
                executor: contender.name(),
                ns_per_op: Vec::new(),
            })
            .collect();
        for _ in 0..repetitions {
            for (contender, series) in contenders.iter_mut().zip(&mut series) {
                let elapsed = contender.run(workload, operations);
                series
                    .ns_per_op
                    .push(elapsed.as_nanos() as f64 / operations as f64);
            }
        }
        results.push(WorkloadResult {
            workload,
            operations,
            series,
        });
    }

    report::print_table(&results, repetitions);
    if let Some(path) = &arguments.json {
        if let Err(error) = report::write_json(path, &results, repetitions, arguments.quick) {
            eprintln!("bench-host: writing {}: {error}", path.display());
            std::process::exit(1);
        }
        eprintln!("wrote {}", path.display());
    }
}

/// One unmeasured run of `workload` on every contender: faults in the allocator's
/// pages, grows the run queues and warms the caches and branch predictors.
fn warm_up(contenders: &mut [Box<dyn Contender>], workload: Workload, operations: u64) {
    for contender in contenders.iter_mut() {
        contender.run(workload, operations);
    }
}
