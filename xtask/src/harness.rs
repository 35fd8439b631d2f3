//! `xtask test`: the three test layers and the final `N passed, M failed` line.
//!
//! 1. host: plain `cargo test --no-fail-fast` at the root (the default members are the
//!    host-testable crates and xtask itself; the kernel and arch crates do not build for
//!    the host, so `--workspace` would be wrong);
//! 2. miri: `cargo +nightly miri test` over the crates with unsafe, lock-free or
//!    waker code, when a nightly toolchain with miri is available;
//! 3. qemu: the kernel is built once and each entry of [`QEMU_TESTS`] booted once per hart
//!    count, a few at a time, each with a timeout;
//! 4. user: each user-level test (`user_tests::USER_TESTS`) booted on Debian's Linux (the
//!    oracle) and on coros with the same initramfs, outputs compared; the coros side is
//!    skipped (counted as skipped, never as passed) while coros has no user space;
//! 5. bench: `bench-smoke`, the `make bench` suite with one repetition and tiny counts
//!    (both kernels boot in both modes and report every metric; the JSON and SVG files
//!    are written to a temporary directory), and `bench-disk-smoke`, the disk benchmark
//!    at its tiny scale on both kernels. Never a measurement.
//!
//! Why one harness: CI and people run the same `make test`, and its last line is the
//! one-glance answer. Problems of the harness itself (missing prerequisites, a kernel
//! that does not build, Debian packages that cannot be downloaded) are counted as
//! failures, never silently skipped, so the exit status is non-zero iff something failed.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result};
use wait_timeout::ChildExt;

use crate::kernel_build;
use crate::prereqs::{self, Need};
use crate::qemu::{self, Boot, Captured, Console};
use crate::qemu_tests::{evaluate, QemuTest, QEMU_TESTS};
use crate::shell;
use crate::test_results::{parse_test_result, Tally};
use crate::user_harness;

/// The crates miri checks.
pub const MIRI_PACKAGES: &[&str] = &["ksync", "timer", "executor", "mm"];
/// How many lines of a failing QEMU test's output are shown.
const FAILURE_TAIL_LINES: usize = 40;

/// A test layer, selectable with `--only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Layer {
    Host,
    Miri,
    Qemu,
    Disk,
    User,
    Bench,
}

/// What `xtask test` runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Only tests whose name contains this (passed to libtest for host and miri tests;
    /// matched against `NAME [smp=N]` for QEMU tests).
    pub filter: Option<String>,
    /// QEMU tests run at the same time.
    pub jobs: usize,
    /// The layers to run (all when empty).
    pub layers: Vec<Layer>,
    /// Limit for the whole host `cargo test` run (build included).
    pub host_timeout: Duration,
    /// Limit for the whole miri run.
    pub miri_timeout: Duration,
}

/// One line of the per-layer breakdown.
struct LayerReport {
    name: &'static str,
    tally: Tally,
    /// Tests skipped (counted apart: a skip is not a pass).
    skipped: usize,
    /// Why the layer was skipped or failed as a whole, if it was.
    note: Option<String>,
}

impl LayerReport {
    fn ran(name: &'static str, tally: Tally) -> LayerReport {
        LayerReport {
            name,
            tally,
            skipped: 0,
            note: None,
        }
    }

    fn skipped(name: &'static str, why: String) -> LayerReport {
        println!("{name}: skipped ({why})");
        LayerReport {
            name,
            tally: Tally::default(),
            skipped: 0,
            note: Some(format!("skipped ({why})")),
        }
    }
}

/// Runs the selected layers and prints the breakdown and, last, `N passed, M failed`.
/// Returns whether everything passed.
pub fn run(options: &Options) -> bool {
    let wanted = |layer| options.layers.is_empty() || options.layers.contains(&layer);
    let filter = options.filter.as_deref();
    let mut reports = Vec::new();
    match prereqs::ensure(Need::Base, false) {
        Err(error) => {
            println!("prereqs: FAILED: {error:#}");
            reports.push(LayerReport {
                name: "prereqs",
                tally: Tally::failed(1),
                skipped: 0,
                note: Some("missing prerequisites".into()),
            });
        }
        Ok(()) => {
            if wanted(Layer::Host) {
                reports.push(host_tests(filter, options.host_timeout));
            }
            if wanted(Layer::Miri) {
                reports.push(miri_tests(filter, options.miri_timeout));
            }
            if wanted(Layer::Qemu) {
                reports.push(qemu_layer(filter, options.jobs.max(1)));
            }
            if wanted(Layer::Disk) {
                reports.push(disk_layer(filter));
            }
            if wanted(Layer::User) {
                reports.push(user_layer(filter, options.jobs.max(1)));
            }
            if wanted(Layer::Bench) {
                reports.push(bench_layer(filter));
            }
        }
    }
    print_summary(&reports)
}

fn print_summary(reports: &[LayerReport]) -> bool {
    let mut total = Tally::default();
    let mut skipped = 0;
    println!("---- summary ----");
    for report in reports {
        if report.skipped > 0 {
            println!(
                "{:<8} {}, {} skipped",
                format!("{}:", report.name),
                report.tally,
                report.skipped
            );
        } else {
            match &report.note {
                Some(note) if report.tally == Tally::default() => {
                    println!("{:<8} {note}", format!("{}:", report.name))
                }
                Some(note) => println!(
                    "{:<8} {} ({note})",
                    format!("{}:", report.name),
                    report.tally
                ),
                None => println!("{:<8} {}", format!("{}:", report.name), report.tally),
            }
        }
        total += report.tally;
        skipped += report.skipped;
    }
    if skipped > 0 {
        println!("{total}, {skipped} skipped");
    } else {
        println!("{total}");
    }
    let _ = std::io::stdout().flush();
    total.failed == 0
}

// ---- host and miri: cargo test runs -------------------------------------------------

/// What one `cargo test` run reported.
#[derive(Debug, Default)]
struct CargoTestRun {
    /// Sum of the `test result:` lines.
    tally: Tally,
    /// `test result:` lines with at least one failure.
    failing_binaries: usize,
    /// Test binaries cargo reported as failed (`error: test failed, to rerun pass ...`).
    failed_targets: usize,
    success: bool,
    /// Killed at its timeout.
    timed_out: bool,
    /// Whether stderr mentioned miri's isolation.
    mentions_isolation: bool,
}

impl CargoTestRun {
    /// Test binaries that failed without printing a `test result:` line: they crashed
    /// (an abort, a signal, miri finding a deadlock or undefined behaviour).
    fn crashed_binaries(&self) -> usize {
        self.failed_targets.saturating_sub(self.failing_binaries)
    }
}

fn host_tests(filter: Option<&str>, timeout: Duration) -> LayerReport {
    println!("---- host tests ----");
    let mut command = shell::cargo();
    command.args(["test", "--no-fail-fast"]);
    add_filter(&mut command, filter);
    cargo_test_report("host", command, timeout).0
}

fn miri_tests(filter: Option<&str>, timeout: Duration) -> LayerReport {
    if std::env::var_os("COROS_SKIP_MIRI").is_some_and(|value| value == "1") {
        return LayerReport::skipped("miri", "COROS_SKIP_MIRI=1".into());
    }
    println!("---- miri ----");
    if let Err(why) = miri_available() {
        return LayerReport::skipped("miri", why);
    }
    let (report, run) = cargo_test_report("miri", miri_command(filter, false), timeout);
    let retry = run.is_some_and(|run| !run.success && !run.timed_out && run.mentions_isolation)
        && std::env::var_os("MIRIFLAGS").is_none();
    if !retry {
        return report;
    }
    println!("miri: a test needs the host (isolation); rerunning with -Zmiri-disable-isolation");
    cargo_test_report("miri", miri_command(filter, true), timeout).0
}

/// `Ok` when `cargo +nightly miri` can run, adding the component once if needed.
fn miri_available() -> Result<(), String> {
    let toolchains = Command::new("rustup")
        .args(["toolchain", "list"])
        .output()
        .map_err(|_| "rustup not found".to_string())?;
    let has_nightly = String::from_utf8_lossy(&toolchains.stdout)
        .lines()
        .any(|line| line.starts_with("nightly"));
    if !has_nightly {
        return Err("no nightly toolchain".into());
    }
    let components = Command::new("rustup")
        .args(["+nightly", "component", "list", "--installed"])
        .output()
        .map_err(|error| format!("rustup: {error}"))?;
    let has_miri = String::from_utf8_lossy(&components.stdout)
        .lines()
        .any(|line| line.starts_with("miri"));
    if has_miri {
        return Ok(());
    }
    let added = shell::run(Command::new("rustup").args([
        "+nightly",
        "component",
        "add",
        "miri",
        "rust-src",
    ]));
    match added {
        Ok(status) if status.success() => Ok(()),
        _ => Err("the nightly toolchain has no miri and it could not be added".into()),
    }
}

fn miri_command(filter: Option<&str>, disable_isolation: bool) -> Command {
    let mut command = Command::new("cargo");
    command.current_dir(shell::repo_root());
    // `cargo run` pointed these at the stable toolchain; cargo-miri must find nightly's.
    command.env_remove("CARGO").env_remove("RUSTUP_TOOLCHAIN");
    if disable_isolation {
        command.env("MIRIFLAGS", "-Zmiri-disable-isolation");
    }
    command.args(["+nightly", "miri", "test", "--no-fail-fast"]);
    for package in MIRI_PACKAGES {
        command.args(["-p", package]);
    }
    add_filter(&mut command, filter);
    command
}

fn add_filter(command: &mut Command, filter: Option<&str>) {
    if let Some(filter) = filter {
        command.args(["--", filter]);
    }
}

/// Runs a `cargo test`-like command and turns it into a layer report.
fn cargo_test_report(
    name: &'static str,
    mut command: Command,
    timeout: Duration,
) -> (LayerReport, Option<CargoTestRun>) {
    match run_cargo_tests(&mut command, timeout) {
        Err(error) => {
            println!("{name}: FAILED: {error:#}");
            let report = LayerReport {
                name,
                tally: Tally::failed(1),
                skipped: 0,
                note: Some("could not run".into()),
            };
            (report, None)
        }
        Ok(run) => {
            let (tally, note) = account(&run, timeout);
            if let Some(note) = &note {
                println!("{name}: FAILED: {note} (`{}`)", shell::render(&command));
            }
            (
                LayerReport {
                    name,
                    tally,
                    skipped: 0,
                    note,
                },
                Some(run),
            )
        }
    }
}

/// The tally of a run, with the failures no `test result:` line reports added: each
/// crashed test binary counts as one failure, and so does a run killed at its timeout
/// (a hung test) or one that failed with no failing test (a build error, say).
fn account(run: &CargoTestRun, timeout: Duration) -> (Tally, Option<String>) {
    let mut tally = run.tally;
    let mut notes = Vec::new();
    let crashed = run.crashed_binaries();
    if crashed > 0 {
        tally.failed += crashed;
        notes.push(format!(
            "{crashed} test binar{} crashed without a result, counted as one failure each",
            if crashed == 1 { "y" } else { "ies" }
        ));
    }
    if run.timed_out {
        tally.failed += 1;
        notes.push(format!(
            "timed out after {} s and killed (a hung test? look for \"has been running for \
             over 60 seconds\" above)",
            timeout.as_secs()
        ));
    } else if !run.success && tally.failed == 0 {
        tally.failed += 1;
        notes.push("cargo failed with no failing test (a build error?)".into());
    }
    let note = (!notes.is_empty()).then(|| notes.join("; "));
    (tally, note)
}

/// Runs the command with its output streamed through, counting `test result:` lines
/// (stdout) and failed test binaries (cargo's stderr); after `timeout` the command and
/// everything it started are killed.
fn run_cargo_tests(command: &mut Command, timeout: Duration) -> Result<CargoTestRun> {
    shell::echo(command);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .with_context(|| format!("could not start `{}`", shell::render(command)))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    std::thread::scope(|scope| {
        let stderr_reader = scope.spawn(move || {
            let (mut failed_targets, mut mentions_isolation) = (0, false);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("{line}");
                if line.contains("failed, to rerun pass") {
                    failed_targets += 1;
                }
                mentions_isolation |= line.contains("isolation");
            }
            (failed_targets, mentions_isolation)
        });
        let stdout_reader = scope.spawn(move || {
            let (mut tally, mut failing_binaries) = (Tally::default(), 0);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                println!("{line}");
                if let Some(result) = parse_test_result(&line) {
                    tally += result;
                    failing_binaries += usize::from(result.failed > 0);
                }
            }
            (tally, failing_binaries)
        });
        let finished = child.wait_timeout(timeout).context("waiting for cargo")?;
        let timed_out = finished.is_none();
        let status = match finished {
            Some(status) => status,
            None => {
                shell::kill_tree(child.id());
                child.wait().context("reaping the killed cargo")?
            }
        };
        let (tally, failing_binaries) = stdout_reader.join().expect("reader does not panic");
        let (failed_targets, mentions_isolation) =
            stderr_reader.join().expect("reader does not panic");
        Ok(CargoTestRun {
            tally,
            failing_binaries,
            failed_targets,
            success: status.success() && !timed_out,
            timed_out,
            mentions_isolation,
        })
    })
}

// ---- qemu ---------------------------------------------------------------------------

/// One test at one hart count.
#[derive(Debug, Clone, Copy)]
pub struct Instance {
    pub test: &'static QemuTest,
    pub smp: usize,
}

impl Instance {
    /// `NAME [smp=N]`, which `--filter` matches against.
    pub fn label(&self) -> String {
        format!("{} [smp={}]", self.test.name, self.smp)
    }

    fn log_path(&self) -> PathBuf {
        shell::target_dir()
            .join("qemu-tests")
            .join(format!("{}-smp{}.log", self.test.name, self.smp))
    }
}

/// Every (test, hart count) pair from `tests` whose label contains `filter`.
pub fn select(tests: &'static [QemuTest], filter: Option<&str>) -> Vec<Instance> {
    tests
        .iter()
        .flat_map(|test| test.smp.iter().map(move |&smp| Instance { test, smp }))
        .filter(|instance| filter.is_none_or(|filter| instance.label().contains(filter)))
        .collect()
}

fn qemu_layer(filter: Option<&str>, jobs: usize) -> LayerReport {
    let instances = select(QEMU_TESTS, filter);
    if instances.is_empty() {
        return LayerReport::skipped("qemu", "no QEMU test matches the filter".into());
    }
    println!("---- qemu tests ----");
    let kernel = match kernel_build::build_kernel() {
        Ok(kernel) => kernel,
        Err(error) => {
            println!("qemu: kernel build FAILED: {error:#}");
            println!(
                "qemu: {} not run, counted as failed",
                count(instances.len())
            );
            return LayerReport {
                name: "qemu",
                tally: Tally::failed(instances.len()),
                skipped: 0,
                note: Some("kernel build failed".into()),
            };
        }
    };
    let jobs = jobs.min(instances.len());
    println!("qemu: {}, {jobs} at a time", count(instances.len()));
    LayerReport::ran("qemu", run_parallel(&instances, &kernel, jobs))
}

/// The user-level tests: Linux as the oracle, coros compared with it.
fn disk_layer(filter: Option<&str>) -> LayerReport {
    let selected = crate::disk_tests::selected(filter);
    if selected == 0 {
        return LayerReport::skipped("disk", "no disk test matches the filter".into());
    }
    println!("---- disk tests (virtio-blk images checked on the host) ----");
    let prepared = kernel_build::build_kernel().and_then(|kernel| Ok((kernel, user_harness::prepare_initramfs()?)));
    let (kernel, initramfs) = match prepared {
        Ok(prepared) => prepared,
        Err(error) => {
            println!("disk: build FAILED: {error:#}");
            return LayerReport { name: "disk", tally: Tally::failed(selected), skipped: 0, note: Some("build failed".into()) };
        }
    };
    let (passed, failed) = crate::disk_tests::run_layer(filter, &kernel, &initramfs);
    LayerReport { name: "disk", tally: Tally { passed, failed }, skipped: 0, note: None }
}

fn user_layer(filter: Option<&str>, jobs: usize) -> LayerReport {
    let selected = crate::user_tests::select(filter).len();
    if selected == 0 {
        return LayerReport::skipped("user", "no user test matches the filter".into());
    }
    println!("---- user tests (Linux oracle vs coros) ----");
    let kernel = match kernel_build::build_kernel() {
        Ok(kernel) => kernel,
        Err(error) => {
            println!("user: kernel build FAILED: {error:#}");
            return LayerReport {
                name: "user",
                tally: Tally::failed(selected),
                skipped: 0,
                note: Some("kernel build failed".into()),
            };
        }
    };
    let counts = user_harness::run_layer(filter, jobs, &kernel);
    LayerReport {
        name: "user",
        tally: Tally {
            passed: counts.passed,
            failed: counts.failed,
        },
        skipped: counts.skipped,
        note: None,
    }
}

/// A smoke run: `Err` says what is wrong.
type Smoke = fn() -> Result<(), String>;

/// The bench layer's tests: the suite's smoke and the disk benchmark's smoke.
const BENCH_SMOKES: &[(&str, Smoke)] =
    &[("bench-smoke", crate::bench::smoke), ("bench-disk-smoke", crate::bench_disk::smoke)];

/// The smoke runs of the benchmark harness (see the module docs).
fn bench_layer(filter: Option<&str>) -> LayerReport {
    let selected: Vec<_> = BENCH_SMOKES.iter().filter(|(name, _)| filter.is_none_or(|filter| name.contains(filter))).collect();
    if selected.is_empty() {
        return LayerReport::skipped("bench", "no bench test matches the filter".into());
    }
    println!("---- bench smoke (coros and Linux, tiny counts) ----");
    let mut tally = Tally::default();
    for (name, smoke) in selected {
        let started = std::time::Instant::now();
        match smoke() {
            Ok(()) => {
                println!("bench {name} ... ok ({:.1} s)", started.elapsed().as_secs_f64());
                tally.passed += 1;
            }
            Err(why) => {
                println!("bench {name} ... FAILED ({:.1} s):", started.elapsed().as_secs_f64());
                for line in why.lines() {
                    println!("    | {line}");
                }
                tally.failed += 1;
            }
        }
    }
    LayerReport::ran("bench", tally)
}

/// "1 test", "2 tests".
fn count(tests: usize) -> String {
    if tests == 1 {
        "1 test".into()
    } else {
        format!("{tests} tests")
    }
}

/// Runs the instances on `jobs` worker threads, printing each result as it comes.
fn run_parallel(instances: &[Instance], kernel: &Path, jobs: usize) -> Tally {
    let next = AtomicUsize::new(0);
    let tally = Mutex::new(Tally::default());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(instance) = instances.get(index) else {
                    break;
                };
                let passed = run_instance(instance, kernel);
                let mut tally = tally.lock().unwrap();
                *tally += if passed {
                    Tally::passed(1)
                } else {
                    Tally::failed(1)
                };
            });
        }
    });
    tally.into_inner().unwrap()
}

/// Boots one instance, prints its result line (and on failure the output's tail),
/// keeps its log under `target/qemu-tests/`, and returns whether it passed.
fn run_instance(instance: &Instance, kernel: &Path) -> bool {
    let boot = Boot {
        kernel,
        smp: instance.smp,
        append: instance.test.append,
        console: Console::Headless,
        wait_for_gdb: false,
        initrd: None,
    };
    let command = boot.command();
    let command_line = shell::render(&command);
    let run = qemu::run_captured(command, instance.test.timeout);
    let verdict = match &run {
        Ok(run) => evaluate(instance.test, run),
        Err(error) => Err(format!("{error:#}")),
    };
    let log_path = instance.log_path();
    let log_saved = run
        .as_ref()
        .ok()
        .map(|run| save_log(&log_path, &command_line, run).is_ok())
        .unwrap_or(false);

    let mut report = String::new();
    let elapsed = run
        .as_ref()
        .map(|run| run.elapsed.as_secs_f64())
        .unwrap_or(0.0);
    match &verdict {
        Ok(()) => report.push_str(&format!(
            "qemu {} ... ok ({elapsed:.1} s)\n",
            instance.label()
        )),
        Err(reason) => {
            report.push_str(&format!("qemu {} ... FAILED: {reason}\n", instance.label()));
            report.push_str(&format!("    $ {command_line}\n"));
            if let Ok(run) = &run {
                report.push_str(&failure_tail(run));
            }
            if log_saved {
                report.push_str(&format!("    full log: {}\n", display_path(&log_path)));
            }
        }
    }
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(report.as_bytes());
    let _ = out.flush();
    verdict.is_ok()
}

/// The last lines of the serial output (and of QEMU's stderr, if any), indented.
fn failure_tail(run: &Captured) -> String {
    let mut text = format!("    --- last {FAILURE_TAIL_LINES} lines of serial output ---\n");
    text.push_str(&indented_tail(&run.stdout, FAILURE_TAIL_LINES));
    if !run.stderr.trim().is_empty() {
        text.push_str("    --- qemu stderr ---\n");
        text.push_str(&indented_tail(&run.stderr, 10));
    }
    text
}

fn indented_tail(output: &str, count: usize) -> String {
    let lines: Vec<&str> = output.lines().collect();
    let start = lines.len().saturating_sub(count);
    lines[start..]
        .iter()
        .map(|line| format!("    | {}\n", line.trim_end_matches('\r')))
        .collect()
}

fn save_log(path: &Path, command_line: &str, run: &Captured) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let text = format!(
        "$ {command_line}\nending: {:?} after {:.3} s\n--- serial output ---\n{}\n--- qemu stderr ---\n{}",
        run.ending,
        run.elapsed.as_secs_f64(),
        run.stdout,
        run.stderr
    );
    std::fs::write(path, text)
}

fn display_path(path: &Path) -> String {
    path.strip_prefix(shell::repo_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_expands_hart_counts_and_filters_by_label() {
        let all = select(QEMU_TESTS, None);
        let expected: usize = QEMU_TESTS.iter().map(|test| test.smp.len()).sum();
        assert_eq!(all.len(), expected);

        let demo: Vec<String> = select(QEMU_TESTS, Some("demo"))
            .iter()
            .map(Instance::label)
            .collect();
        assert_eq!(demo, ["demo [smp=1]", "demo [smp=4]"]);

        let timers = select(QEMU_TESTS, Some("timer-"));
        assert!(timers
            .iter()
            .all(|instance| instance.test.name.starts_with("timer-")));
        let timer_instances: usize =
            QEMU_TESTS.iter().filter(|test| test.name.starts_with("timer-")).map(|test| test.smp.len()).sum();
        assert!(timer_instances >= 4);
        assert_eq!(timers.len(), timer_instances);

        assert!(select(QEMU_TESTS, Some("no-such-test")).is_empty());
    }

    #[test]
    fn crashed_binaries_and_hangs_count_as_failures() {
        let limit = Duration::from_secs(600);
        // Two targets failed but only one printed a failing `test result:` line.
        let crashed = CargoTestRun {
            tally: Tally {
                passed: 17,
                failed: 1,
            },
            failing_binaries: 1,
            failed_targets: 2,
            ..CargoTestRun::default()
        };
        let (tally, note) = account(&crashed, limit);
        assert_eq!(
            tally,
            Tally {
                passed: 17,
                failed: 2
            }
        );
        assert!(note.unwrap().starts_with("1 test binary crashed"));

        let hung = CargoTestRun {
            tally: Tally::passed(3),
            timed_out: true,
            ..Default::default()
        };
        let (tally, note) = account(&hung, limit);
        assert_eq!(
            tally,
            Tally {
                passed: 3,
                failed: 1
            }
        );
        assert!(note.unwrap().starts_with("timed out after 600 s"));

        let build_error = CargoTestRun::default();
        assert_eq!(account(&build_error, limit).0, Tally::failed(1));

        let clean = CargoTestRun {
            tally: Tally::passed(5),
            success: true,
            ..Default::default()
        };
        assert_eq!(account(&clean, limit), (Tally::passed(5), None));
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let output: String = (1..=50).map(|n| format!("line {n}\r\n")).collect();
        let tail = indented_tail(&output, 40);
        assert_eq!(tail.lines().count(), 40);
        assert!(tail.starts_with("    | line 11\n"));
        assert!(tail.ends_with("    | line 50\n"));
    }
}
