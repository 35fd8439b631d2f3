//! coros vs Linux 6.12 on the same QEMU: the boots behind `make bench`'s main table.
//!
//! Every boot uses the same initramfs and command line on both kernels:
//! `rdinit=/usr/bin/bench-syscalls` makes the benchmark program PID 1 for an instant
//! (it reads the `time` CSR — the boot-to-init figure — and execs `/init`), then
//! `/init` runs the script `coros_test=NAME` names (`bench::INITRAMFS_BENCHMARKS`):
//! a 3 s sleep (free under `-icount sleep=off`) so both kernels finish their boot-time
//! work, then the workloads. Per repetition and mode, the two kernels boot back to
//! back, in alternating order, so slow drifts of the host hit both alike.
//!
//! Optionally the concurrency sweep also runs at `-smp 4` (wall mode only: Debian's
//! Linux does not finish booting on 4 harts under icount within minutes, QEMU then
//! runs every hart in one thread). A kernel whose `-smp 4` boot fails is not booted
//! at `-smp 4` again in that run; the failure is kept in the results.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::bench_results::{date_of, parse_figures, Kernel, Mode, ModeResults, Results};
use crate::initramfs::TEST_VARIABLE;
use crate::qemu::{run_captured, Boot, Captured, Console, Ending};
use crate::shell;

/// The program that is PID 1 first (the boot probe), then the benchmark itself.
pub const BENCH_PROGRAM: &str = "/usr/bin/bench-syscalls";

/// How many operations each workload runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// The published figures.
    Full,
    /// A tenth of the operations (`make bench QUICK=1`).
    Quick,
    /// A hundredth, and 100 parked threads instead of 1,000 (the `make test` smoke).
    Tiny,
}

impl Scale {
    pub fn key(self) -> &'static str {
        match self {
            Scale::Full => "full",
            Scale::Quick => "quick",
            Scale::Tiny => "tiny",
        }
    }

    /// The initramfs script of the main workloads.
    fn main_script(self) -> &'static str {
        match self {
            Scale::Full => "bench-syscalls",
            Scale::Quick => "bench-syscalls-quick",
            Scale::Tiny => "bench-syscalls-tiny",
        }
    }

    /// The initramfs script of the `-smp 4` sweep.
    fn sweep_script(self) -> &'static str {
        match self {
            Scale::Full => "bench-sweep-smp4",
            Scale::Quick => "bench-sweep-smp4-quick",
            Scale::Tiny => "bench-sweep-smp4-tiny",
        }
    }
}

/// What one suite run does.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    pub repetitions: usize,
    pub scale: Scale,
    pub modes: Vec<Mode>,
    /// Also run the concurrency sweep at `-smp 4` (wall mode).
    pub smp4_sweep: bool,
    /// Where the JSON and SVG files go.
    pub out_dir: PathBuf,
    /// The command line recorded in the results.
    pub command: String,
}

/// A finished run: its results and the files written.
pub struct Written {
    pub results: Results,
    /// Failed boots of the main (1-hart) workloads; failures of the optional `-smp 4`
    /// sweep are reported in the results but not counted here.
    pub main_failures: usize,
    pub json: PathBuf,
    pub svg: PathBuf,
}

/// The kernel command line of a benchmark boot (the same for both kernels).
pub fn append(script: &str) -> String {
    format!("console=ttyS0 rdinit={BENCH_PROGRAM} quiet {TEST_VARIABLE}={script}")
}

/// Builds everything, boots both kernels as `options` says, writes JSON and SVG.
pub fn run(options: &SuiteOptions) -> Result<Written> {
    let initramfs = crate::user_harness::prepare_initramfs()?;
    let linux = crate::debian::linux_kernel().context("could not fetch Debian's Linux kernel (linux-image-riscv64)")?;
    let coros = crate::kernel_build::build_kernel()?;
    let commit = commit();
    let mut results = Results {
        date: date_of(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs()),
        commit: commit.clone(),
        command: options.command.clone(),
        qemu_version: qemu_version(),
        coros_version: format!("coros {} ({commit})", env!("CARGO_PKG_VERSION")),
        linux_version: format!("{} {}", linux.package.package, linux.package.version),
        repetitions: options.repetitions,
        scale: options.scale.key().to_string(),
        modes: options.modes.iter().map(|mode| ModeResults::new(*mode)).collect(),
        failures: Vec::new(),
    };
    let kernels = [(Kernel::Coros, coros.as_path()), (Kernel::Linux, linux.image.as_path())];
    let mut smp4_failed = [false; 2];
    let mut main_failures = 0;
    for repetition in 0..options.repetitions {
        for (mode_index, &mode) in options.modes.iter().enumerate() {
            let mut order = kernels;
            if repetition % 2 == 1 {
                order.reverse();
            }
            for (kernel, image) in order {
                let script = options.scale.main_script();
                let boot = boot(image, &initramfs, script, 1, mode, Duration::from_secs(1200), repetition);
                let failures_before = results.failures.len();
                let output = accept(boot, kernel, script, 1, mode, &mut results.failures);
                main_failures += results.failures.len() - failures_before;
                results.modes[mode_index].record(repetition, kernel, &parse_figures(&output));
            }
            if options.smp4_sweep && mode == Mode::Wall {
                for (kernel, image) in order {
                    let slot = kernel as usize;
                    let script = options.scale.sweep_script();
                    if smp4_failed[slot] {
                        continue;
                    }
                    let boot = boot(image, &initramfs, script, 4, mode, Duration::from_secs(120), repetition);
                    let finished = boot.as_ref().is_ok_and(|(run, _)| run.stdout.contains("bench done"));
                    smp4_failed[slot] = !finished;
                    let output = accept(boot, kernel, script, 4, mode, &mut results.failures);
                    let figures: Vec<_> = parse_figures(&output).into_iter().filter(|f| f.name.ends_with("-smp4")).collect();
                    results.modes[mode_index].record(repetition, kernel, &figures);
                }
            }
        }
    }
    std::fs::create_dir_all(&options.out_dir)?;
    let stem = format!("{}-{}", results.date, results.commit);
    let json = options.out_dir.join(format!("{stem}.json"));
    let svg = options.out_dir.join(format!("{stem}.svg"));
    std::fs::write(&json, serde_json::to_string_pretty(&results.to_json())? + "\n")
        .with_context(|| format!("writing {}", json.display()))?;
    std::fs::write(&svg, crate::bench_svg::chart(&results)).with_context(|| format!("writing {}", svg.display()))?;
    Ok(Written { results, main_failures, json, svg })
}

/// The serial output of a boot; a boot that did not print `bench done` adds a failure.
fn accept(
    boot: Result<(Captured, PathBuf)>,
    kernel: Kernel,
    script: &str,
    smp: usize,
    mode: Mode,
    failures: &mut Vec<String>,
) -> String {
    let what = format!("{} {script} -smp {smp} ({})", kernel.name(), mode.key());
    match boot {
        Ok((run, _)) if run.stdout.contains("bench done") => run.stdout,
        Ok((run, log)) => {
            let how = match run.ending {
                Ending::TimedOut => format!("timed out after {:.0} s", run.elapsed.as_secs_f64()),
                ending => format!("ended {ending:?} after {:.1} s", run.elapsed.as_secs_f64()),
            };
            let last = run.stdout.lines().rev().find(|line| line.starts_with("bench ")).unwrap_or("(no figure)");
            failures.push(format!("{what}: {how} without `bench done`; last figure `{}`; log {}", last.trim(), display(&log)));
            println!("bench: {}", failures.last().expect("just pushed"));
            run.stdout
        }
        Err(error) => {
            failures.push(format!("{what}: {error:#}"));
            println!("bench: {}", failures.last().expect("just pushed"));
            String::new()
        }
    }
}

/// Boots `kernel` for `script`, keeping the log under `target/bench-logs/`.
fn boot(
    kernel: &Path,
    initramfs: &Path,
    script: &str,
    smp: usize,
    mode: Mode,
    timeout: Duration,
    repetition: usize,
) -> Result<(Captured, PathBuf)> {
    let append = append(script);
    let boot = Boot { kernel, smp, append: &append, console: Console::Headless, wait_for_gdb: false, initrd: Some(initramfs) };
    let mut command = boot.command();
    command.args(mode.qemu_args());
    let line = shell::render(&command);
    let which = if kernel.ends_with("kernel.elf") { "coros" } else { "linux" };
    print!("bench: {which} {script} -smp {smp} ({}) ... ", mode.key());
    let _ = std::io::Write::flush(&mut std::io::stdout());
    let run = run_captured(command, timeout)?;
    println!("{:.1} s", run.elapsed.as_secs_f64());
    let log = shell::target_dir().join("bench-logs").join(format!("{script}-{which}-smp{smp}-{}-{repetition}.log", mode.key()));
    if let Some(parent) = log.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&log, format!("$ {line}\nending: {:?} after {:.3} s\n--- serial ---\n{}\n--- stderr ---\n{}", run.ending, run.elapsed.as_secs_f64(), run.stdout, run.stderr))?;
    Ok((run, log))
}

fn display(path: &Path) -> String {
    path.strip_prefix(shell::repo_root()).unwrap_or(path).display().to_string()
}

/// `git rev-parse --short HEAD`, with `-dirty` when the tree has uncommitted changes.
pub fn commit() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(shell::repo_root())
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
    };
    let head = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|status| !status.is_empty());
    if dirty { format!("{head}-dirty") } else { head }
}

/// The first line of `qemu-system-riscv64 --version`.
pub fn qemu_version() -> String {
    std::process::Command::new(crate::qemu::QEMU)
        .arg("--version")
        .output()
        .ok()
        .and_then(|output| String::from_utf8_lossy(&output.stdout).lines().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// Checks a finished run for the `make test` smoke: every metric of every mode has a
/// figure from both kernels, coros' counters are there (except for the boot probe,
/// which runs before /proc exists), and the files are written. `Err` says what is wrong.
pub fn check_complete(written: &Written, expected_metrics: &[&str]) -> Result<(), String> {
    let mut problems = Vec::new();
    for failure in &written.results.failures {
        problems.push(format!("boot failed: {failure}"));
    }
    for mode in &written.results.modes {
        for name in expected_metrics {
            match mode.metric(name) {
                None => problems.push(format!("{}: `{name}` reported by neither kernel", mode.mode.key())),
                Some(metric) => {
                    for kernel in [Kernel::Coros, Kernel::Linux] {
                        if metric.median(kernel).is_none() {
                            problems.push(format!("{}: `{name}` missing on {}", mode.mode.key(), kernel.name()));
                        }
                    }
                    if *name != "boot-to-init" && metric.counters().is_none() {
                        problems.push(format!("{}: `{name}` has no coros counters", mode.mode.key()));
                    }
                }
            }
        }
    }
    match std::fs::read_to_string(&written.json).map(|text| serde_json::from_str::<serde_json::Value>(&text)) {
        Ok(Ok(json)) if json["modes"].as_array().is_some_and(|modes| modes.len() == written.results.modes.len()) => {}
        other => problems.push(format!("{} is not the expected JSON: {other:?}", written.json.display())),
    }
    match std::fs::read_to_string(&written.svg) {
        Ok(svg) if svg.starts_with("<svg") && expected_metrics.iter().all(|name| svg.contains(name)) => {}
        _ => problems.push(format!("{} is not a chart of every metric", written.svg.display())),
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("\n")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completeness_check_finds_what_is_missing() {
        use crate::bench_results::{Figure, PerOp, Unit};
        let dir = std::env::temp_dir().join(format!("coros-bench-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let counters = Some(PerOp { traps: 1.0, syscalls: 1.0, switches: 0.0, interrupts: 0.0 });
        let figure = |name: &str, counters| Figure { name: name.into(), unit: Unit::Nanoseconds, per_op: 5.0, counters };
        let mut mode = ModeResults::new(Mode::Instructions);
        mode.record(0, Kernel::Coros, &[figure("boot-to-init", None), figure("getppid", counters), figure("stat", None)]);
        mode.record(0, Kernel::Linux, &[figure("boot-to-init", None), figure("getppid", None)]);
        let results = Results {
            date: "2026-11-21".into(),
            commit: "abc".into(),
            command: String::new(),
            qemu_version: String::new(),
            coros_version: String::new(),
            linux_version: String::new(),
            repetitions: 1,
            scale: "tiny".into(),
            modes: vec![mode],
            failures: Vec::new(),
        };
        let (json, svg) = (dir.join("r.json"), dir.join("r.svg"));
        std::fs::write(&json, serde_json::to_string(&results.to_json()).unwrap()).unwrap();
        std::fs::write(&svg, crate::bench_svg::chart(&results)).unwrap();
        let written = Written { results, main_failures: 0, json, svg };
        assert_eq!(check_complete(&written, &["boot-to-init", "getppid"]), Ok(()));
        let problems = check_complete(&written, &["getppid", "stat", "page-fault"]).unwrap_err();
        assert!(problems.contains("icount: `stat` missing on linux"), "{problems}");
        assert!(problems.contains("icount: `stat` has no coros counters"), "{problems}");
        assert!(problems.contains("`page-fault` reported by neither kernel"), "{problems}");
        assert!(problems.contains("not a chart of every metric"), "{problems}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn command_line_and_scripts() {
        assert_eq!(append("bench-syscalls"), "console=ttyS0 rdinit=/usr/bin/bench-syscalls quiet coros_test=bench-syscalls");
        for scale in [Scale::Full, Scale::Quick, Scale::Tiny] {
            for script in [scale.main_script(), scale.sweep_script()] {
                assert!(
                    crate::bench::INITRAMFS_BENCHMARKS.iter().any(|(name, _)| *name == script),
                    "{script} is not in the initramfs"
                );
            }
        }
    }
}
