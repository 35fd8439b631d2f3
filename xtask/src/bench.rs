//! `cargo xtask bench`: the executor's figures, host and guest, in one table.
//!
//! * Host: `bench-host` runs coros' executor side by side with tokio (current_thread)
//!   and async-executor in one process, alternating them run by run.
//! * Guest: the kernel's `bench=NAME` modes measure wake+poll (yield) and spawn+join on
//!   the real executor, booted twice per repetition: under `-icount shift=0,sleep=off`
//!   (guest nanoseconds = retired instructions, repeatable) and under plain TCG (wall
//!   time, noisy). Medians over the repetitions.
//! * Idle: QEMU's own CPU time while the guest sleeps 5 s on 4 harts, against wall
//!   time. A busy-polling kernel would burn one host core per hart.
//!
//! * coros vs Linux 6.12: `user/bench-syscalls` (one static binary) booted on coros and
//!   on Debian's Linux with the same initramfs and QEMU command line, under icount
//!   (instructions per operation) and plain TCG (ns), alternating kernels
//!   (`bench_suite`); the table, `bench/results/<date>-<commit>.json` and `.svg`
//!   (`bench_results`, `bench_svg`).

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::bench_results::Mode;
use crate::bench_suite::Scale;
use crate::kernel_build::build_kernel;
use crate::qemu::{run_captured, Boot, Console, Ending};
use crate::shell;

/// Scripts the initramfs carries for the benchmarks (`coros_test=NAME` runs them).
/// Each first sleeps 3 s (free under `-icount sleep=off`: idle guest time is skipped)
/// so both kernels have finished their own boot-time work before anything is timed.
pub const INITRAMFS_BENCHMARKS: &[(&str, &str)] = &[
    ("bench-syscalls", "sleep 3; /usr/bin/bench-syscalls"),
    ("bench-syscalls-quick", "sleep 3; /usr/bin/bench-syscalls quick"),
    ("bench-syscalls-tiny", "sleep 3; /usr/bin/bench-syscalls tiny"),
    ("bench-sweep-smp4", "sleep 3; /usr/bin/bench-syscalls sweep suffix=-smp4"),
    ("bench-sweep-smp4-quick", "sleep 3; /usr/bin/bench-syscalls sweep suffix=-smp4 quick"),
    ("bench-sweep-smp4-tiny", "sleep 3; /usr/bin/bench-syscalls sweep suffix=-smp4 tiny"),
];

/// The workloads `user/bench-syscalls` reports on both kernels, in its order.
pub const MAIN_METRICS: &[&str] = &[
    "boot-to-init",
    "getppid",
    "write-devnull",
    "read-devnull",
    "pipe-pingpong",
    "futex-pingpong",
    "sched-yield",
    "fork-exit-wait",
    "fork-exec-wait",
    "thread-create-join",
    "mmap-touch-munmap",
    "page-fault",
    "nanosleep-0",
    "open-close",
    "stat",
    "sleep-1ms-overshoot",
    "pipe-bandwidth-64k",
    "parked-thread-memory",
    "pipe-pairs-1",
    "pipe-pairs-2",
    "pipe-pairs-4",
    "pipe-pairs-8",
    "pipe-pairs-16",
    "pipe-pairs-32",
];

/// What `bench` measures and how often.
pub struct Options {
    /// One repetition and small counts: a smoke test of the harness.
    pub quick: bool,
    /// Only the coros-vs-Linux suite.
    pub syscalls_only: bool,
    /// Skip the `-smp 4` concurrency sweep (it runs in full runs otherwise).
    pub no_smp4: bool,
    /// Only the disk benchmark (`bench_disk`).
    pub disk_only: bool,
}

/// The disk part of `make bench` (`bench_disk`): 3 repetitions (1 when quick) of the
/// full workload; table, MiB/s summary, JSON and SVG. Returns whether every boot finished.
fn disk_suite(options: &Options) -> Result<bool> {
    let mut command = String::from("cargo xtask bench");
    if options.quick {
        command += " --quick";
    }
    if options.disk_only {
        command += " --disk-only";
    }
    let disk = crate::bench_disk::DiskOptions {
        repetitions: if options.quick { 1 } else { 3 },
        scale: crate::bench_disk::DiskScale::Full,
        out_dir: shell::repo_root().join("bench").join("results"),
        command,
    };
    let written = crate::bench_disk::run(&disk)?;
    print!("{}", written.results.table());
    print!("{}", crate::bench_disk::summary(&written.results));
    let shown = |path: &std::path::Path| path.strip_prefix(shell::repo_root()).unwrap_or(path).display().to_string();
    println!("\nresults: {}\nchart:   {}", shown(&written.json), shown(&written.svg));
    Ok(written.results.failures.is_empty())
}

/// The coros-vs-Linux suite of `make bench`: table on the terminal, JSON and SVG in
/// `bench/results/`. Returns whether every 1-hart boot finished (a failed `-smp 4`
/// sweep is shown in the table and the JSON but does not fail the command).
fn kernel_suite(options: &Options) -> Result<bool> {
    let mut command = String::from("cargo xtask bench");
    if options.quick {
        command += " --quick";
    }
    if options.syscalls_only {
        command += " --syscalls-only";
    }
    if options.no_smp4 {
        command += " --no-smp4";
    }
    let suite = crate::bench_suite::SuiteOptions {
        repetitions: if options.quick { 1 } else { 3 },
        scale: if options.quick { Scale::Quick } else { Scale::Full },
        modes: vec![Mode::Instructions, Mode::Wall],
        smp4_sweep: !options.quick && !options.no_smp4,
        out_dir: shell::repo_root().join("bench").join("results"),
        command,
    };
    let written = crate::bench_suite::run(&suite)?;
    print!("{}", written.results.table());
    let shown = |path: &std::path::Path| path.strip_prefix(shell::repo_root()).unwrap_or(path).display().to_string();
    println!("
results: {}
chart:   {}", shown(&written.json), shown(&written.svg));
    Ok(written.main_failures == 0)
}

/// The `make test` smoke of the suite: one repetition, tiny counts, both modes, files
/// in a temporary directory. `Err` says what is missing.
pub fn smoke() -> Result<(), String> {
    let out_dir = std::env::temp_dir().join(format!("coros-bench-smoke-{}", std::process::id()));
    let suite = crate::bench_suite::SuiteOptions {
        repetitions: 1,
        scale: Scale::Tiny,
        modes: vec![Mode::Instructions, Mode::Wall],
        smp4_sweep: false,
        out_dir: out_dir.clone(),
        command: "cargo xtask test --only bench (smoke)".into(),
    };
    let written = crate::bench_suite::run(&suite).map_err(|error| format!("{error:#}"))?;
    let verdict = crate::bench_suite::check_complete(&written, MAIN_METRICS);
    if verdict.is_err() {
        print!("{}", written.results.table());
    }
    let _ = std::fs::remove_dir_all(&out_dir);
    verdict
}

/// One guest figure parsed from `bench NAME: ops=.. ticks=.. ticks_per_second=..`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GuestFigure {
    pub ops: u64,
    pub ticks: u64,
    pub ticks_per_second: u64,
}

impl GuestFigure {
    /// Guest nanoseconds per operation (= instructions per operation under icount shift=0).
    pub fn nanos_per_op(&self) -> f64 {
        self.ticks as f64 * 1e9 / self.ticks_per_second as f64 / self.ops as f64
    }
}

/// Finds the `bench NAME:` line in `output` and reads its fields.
pub fn parse_guest_figure(output: &str, name: &str) -> Option<GuestFigure> {
    let prefix = format!("bench {name}:");
    let line = output.lines().find(|line| line.trim_start().starts_with(&prefix))?;
    let field = |key: &str| {
        line.split_whitespace()
            .find_map(|word| word.strip_prefix(key)?.strip_prefix('='))
            .and_then(|value| value.parse::<u64>().ok())
    };
    Some(GuestFigure { ops: field("ops")?, ticks: field("ticks")?, ticks_per_second: field("ticks_per_second")? })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let middle = values.len() / 2;
    if values.len() % 2 == 1 { values[middle] } else { (values[middle - 1] + values[middle]) / 2.0 }
}

fn boot_bench(kernel: &std::path::Path, name: &str, smp: usize, icount: bool) -> Result<crate::qemu::Captured> {
    let append = format!("bench={name} log=warn");
    let boot = Boot { kernel, smp, append: &append, console: Console::Headless, wait_for_gdb: false, initrd: None };
    let mut command = boot.command();
    if icount {
        command.args(["-icount", "shift=0,sleep=off"]);
    }
    let run = run_captured(command, Duration::from_secs(120))?;
    if run.ending != Ending::Exited(0) {
        bail!("bench={name} ended with {:?}; output:\n{}", run.ending, run.stdout);
    }
    Ok(run)
}

/// CPU time (user + system) of all reaped children of this process so far.
fn children_cpu_time() -> Duration {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// Runs every benchmark and prints the table. Returns whether all ran.
pub fn run(options: &Options) -> Result<bool> {
    let repetitions = if options.quick { 1 } else { 5 };
    if options.syscalls_only {
        println!("---- coros vs Linux 6.12 on the same QEMU, same initramfs ----");
        return kernel_suite(options);
    }
    if options.disk_only {
        println!("---- disk: ext4 on virtio-blk, coros vs Linux 6.12, same QEMU and image ----");
        return disk_suite(options);
    }

    println!("---- host executor: coros vs tokio vs async-executor ----");
    let mut host = shell::cargo();
    host.args(["run", "--release", "--quiet", "--package", "bench-host", "--"]);
    if options.quick {
        host.arg("--quick");
    }
    let host_ok = shell::run(&mut host)?.success();

    println!("\n---- guest executor (coros kernel on QEMU) ----");
    let kernel = build_kernel()?;
    let mut rows = Vec::new();
    for name in ["yield", "spawn-join"] {
        let (mut instructions, mut wall) = (Vec::new(), Vec::new());
        for _ in 0..repetitions {
            for icount in [true, false] {
                let run = boot_bench(&kernel, name, 1, icount)?;
                let figure = parse_guest_figure(&run.stdout, name)
                    .with_context(|| format!("no `bench {name}:` line in:\n{}", run.stdout))?;
                if icount { instructions.push(figure.nanos_per_op()) } else { wall.push(figure.nanos_per_op()) }
            }
        }
        rows.push((name, median(&mut instructions), median(&mut wall)));
    }
    println!("{:<12} {:>22} {:>22}", "workload", "instructions/op", "TCG wall ns/op");
    println!("{}", "-".repeat(58));
    for (name, instructions, wall) in &rows {
        println!("{name:<12} {instructions:>22.0} {wall:>22.0}");
    }
    println!("(median of {repetitions}; instructions under -icount shift=0,sleep=off; 1 hart)");

    println!("\n---- idle: host CPU time of QEMU while the guest sleeps 5 s (4 harts) ----");
    let before = children_cpu_time();
    let started = Instant::now();
    let idle = boot_bench(&kernel, "idle", 4, false)?;
    let wall = started.elapsed();
    let cpu = children_cpu_time() - before;
    if !idle.stdout.contains("bench idle: done") {
        bail!("the idle benchmark did not finish:\n{}", idle.stdout);
    }
    println!(
        "QEMU used {:.2} s of CPU in {:.2} s of wall time ({:.1}% of one core; boot included)",
        cpu.as_secs_f64(),
        wall.as_secs_f64(),
        100.0 * cpu.as_secs_f64() / wall.as_secs_f64()
    );
    println!("\n---- coros vs Linux 6.12 on the same QEMU, same initramfs ----");
    let suite_ok = kernel_suite(options)?;
    println!("\n---- disk: ext4 on virtio-blk, coros vs Linux 6.12, same QEMU and image ----");
    let disk_ok = disk_suite(options)?;
    Ok(host_ok && suite_ok && disk_ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_kernel_bench_line() {
        let output = "boot...\nbench yield: ops=20000 ticks=5000 ns_per_op=25000 ticks_per_second=10000000\n";
        let figure = parse_guest_figure(output, "yield").unwrap();
        assert_eq!(figure, GuestFigure { ops: 20_000, ticks: 5_000, ticks_per_second: 10_000_000 });
        assert!((figure.nanos_per_op() - 25.0).abs() < 1e-9);
        assert_eq!(parse_guest_figure(output, "spawn-join"), None);
        assert_eq!(parse_guest_figure("bench yield: ops=x", "yield"), None);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}

