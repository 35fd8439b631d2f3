//! Summaries of the measured samples: medians, ranges and ratios, printed as a table
//! and optionally written as JSON together with a description of the host.
//!
//! Ratios compare each peer's median with the coros median measured in the same run
//! (`peer / coros`, so above 1 means coros is faster); comparing against numbers from
//! another run or another machine would mostly measure the difference in hosts.

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::workload::Workload;

/// The samples of one executor on one workload, in nanoseconds per operation.
pub struct Series {
    /// The executor's name.
    pub executor: &'static str,
    /// One sample per repetition, in the order measured.
    pub ns_per_op: Vec<f64>,
}

impl Series {
    fn sorted(&self) -> Vec<f64> {
        let mut sorted = self.ns_per_op.clone();
        sorted.sort_by(f64::total_cmp);
        sorted
    }

    /// Median of the samples (mean of the middle two for an even count).
    pub fn median(&self) -> f64 {
        let sorted = self.sorted();
        let middle = sorted.len() / 2;
        if sorted.len() % 2 == 1 {
            sorted[middle]
        } else {
            (sorted[middle - 1] + sorted[middle]) / 2.0
        }
    }

    /// Fastest sample.
    pub fn min(&self) -> f64 {
        self.sorted()[0]
    }

    /// Slowest sample.
    pub fn max(&self) -> f64 {
        *self.sorted().last().expect("at least one repetition")
    }
}

/// The executor every ratio is relative to.
pub const BASELINE: &str = "coros";

/// All executors' samples for one workload.
pub struct WorkloadResult {
    /// The workload measured.
    pub workload: Workload,
    /// Operations per repetition.
    pub operations: u64,
    /// One series per executor, in the order they ran.
    pub series: Vec<Series>,
}

impl WorkloadResult {
    /// `series.median() / coros median` (above 1 means coros is faster), if coros ran.
    pub fn ratio(&self, series: &Series) -> Option<f64> {
        let baseline = self
            .series
            .iter()
            .find(|series| series.executor == BASELINE)?;
        Some(series.median() / baseline.median())
    }
}

/// Prints one block per workload: median, min, max and ratio for each executor.
pub fn print_table(results: &[WorkloadResult], repetitions: usize) {
    println!();
    println!("ns per operation, median of {repetitions} repetitions; ratio = executor median / coros median (>1: coros faster)");
    println!();
    println!(
        "{:<12} {:>9}  {:<16} {:>10} {:>10} {:>10} {:>8}",
        "workload", "ops/rep", "executor", "median", "min", "max", "ratio"
    );
    println!("{}", "-".repeat(82));
    for result in results {
        for (index, series) in result.series.iter().enumerate() {
            let (name, operations) = if index == 0 {
                (
                    result.workload.name().to_string(),
                    result.operations.to_string(),
                )
            } else {
                (String::new(), String::new())
            };
            let ratio = result
                .ratio(series)
                .map_or_else(|| "-".to_string(), |ratio| format!("{ratio:.2}"));
            println!(
                "{:<12} {:>9}  {:<16} {:>10.1} {:>10.1} {:>10.1} {:>8}",
                name,
                operations,
                series.executor,
                series.median(),
                series.min(),
                series.max(),
                ratio
            );
        }
        println!("{:<12} {:>9}  ({})", "", "", result.workload.operation());
    }
    println!();
}

/// Writes the figures, the settings and the host description to `path` as JSON.
pub fn write_json(
    path: &Path,
    results: &[WorkloadResult],
    repetitions: usize,
    quick: bool,
) -> std::io::Result<()> {
    let workloads: Vec<Value> = results
        .iter()
        .map(|result| {
            let executors: Vec<Value> = result
                .series
                .iter()
                .map(|series| {
                    json!({
                        "executor": series.executor,
                        "median_ns": series.median(),
                        "min_ns": series.min(),
                        "max_ns": series.max(),
                        "ratio_to_coros": result.ratio(series),
                        "samples_ns": series.ns_per_op,
                    })
                })
                .collect();
            json!({
                "workload": result.workload.name(),
                "operation": result.workload.operation(),
                "operations_per_repetition": result.operations,
                "executors": executors,
            })
        })
        .collect();
    let document = json!({
        "benchmark": "bench-host",
        "unit": "ns per operation",
        "ratio": "executor median / coros median; > 1 means coros is faster",
        "repetitions": repetitions,
        "quick": quick,
        "host": { "rustc": rustc_version(), "cpu": cpu_model(), "logical_cpus": logical_cpus() },
        "workloads": workloads,
    });
    let text =
        serde_json::to_string_pretty(&document).expect("serialising JSON values cannot fail");
    fs::write(path, text + "\n")
}

/// `rustc --version` of the host (the `RUSTC` toolchain if set), if it runs.
fn rustc_version() -> Option<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let output = Command::new(rustc).arg("--version").output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// The first "model name" line of /proc/cpuinfo, if there is one.
fn cpu_model() -> Option<String> {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").ok()?;
    cpuinfo
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split_once(':'))
        .map(|(_, model)| model.trim().to_string())
}

fn logical_cpus() -> Option<usize> {
    std::thread::available_parallelism().ok().map(usize::from)
}
