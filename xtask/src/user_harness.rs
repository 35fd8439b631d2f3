//! Running the user-level tests: Debian's Linux as the oracle, coros as the kernel under
//! test, the same initramfs and command line for both (see `user_tests`).
//!
//! Preparation (cached under `target/`, so a second run downloads nothing): fetch
//! busybox-static and Debian's kernel (`debian`), build the user programs
//! (`user_build`), write `target/initramfs.cpio` (`initramfs`). A preparation failure —
//! no mirror, no network — fails every selected user test with the reason; it never
//! turns into a skip.
//!
//! coros runs user space only once its lead says so: a coros boot in which `/init`
//! never printed `coros-init: up` makes the coros side `skipped (coros has no user
//! space yet)` unless [`REQUIRE_COROS_USER_SPACE`] is set. Skips are counted apart
//! from passes. Logs of every boot are kept under `target/user-tests/`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::{Context, Result};

use crate::debian;
use crate::initramfs::{self, INIT_UP_LINE};
use crate::qemu::{self, Boot, Captured, Console, Ending};
use crate::shell;
use crate::user_build;
use crate::user_tests::{
    append, check_reference, compare, extract_section, UserTest, REQUIRE_COROS_USER_SPACE,
    user_test_smp,
};

/// The Debian packages the initramfs is made of.
pub const INITRAMFS_PACKAGES: &[&str] = &["busybox-static"];

/// Passed, failed and skipped counts of the user layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

/// Fetches busybox, builds the user programs and writes the initramfs; returns its path.
pub fn prepare_initramfs() -> Result<PathBuf> {
    let archive = test_archive()?;
    let path = initramfs::write(&archive, &initramfs::initramfs_path())?;
    println!("initramfs: {}", display_path(&path));
    Ok(path)
}

/// The disk variant of the initramfs (`target/initramfs-disk.cpio`): the test archive
/// plus the Linux modules that let Debian's kernel mount ext4 from `/dev/vda`
/// (`linux_modules`). The disk benchmark and the ext4 program oracle boot both kernels
/// with it, so both unpack the same archive (coros ignores the modules).
pub fn prepare_disk_initramfs(linux: &debian::LinuxKernel) -> Result<PathBuf> {
    let mut archive = test_archive()?;
    let modules = crate::linux_modules::disk_modules(linux)?;
    crate::linux_modules::add_to_archive(&mut archive, &modules)?;
    let path = initramfs::write(&archive, &shell::target_dir().join("initramfs-disk.cpio"))?;
    let names: Vec<&str> = modules.iter().map(|(name, _)| name.as_str()).collect();
    println!("initramfs: {} (Linux modules: {})", display_path(&path), names.join(" "));
    Ok(path)
}

/// Fetches busybox, builds the user programs and assembles the test archive.
fn test_archive() -> Result<initramfs::Archive> {
    let unpacked = debian::fetch(INITRAMFS_PACKAGES)
        .context("could not fetch Debian's busybox-static (riscv64, trixie)")?;
    let names: Vec<&str> = initramfs::DEBIAN_FILES.iter().map(|(package, _)| *package).collect();
    let debian_packages = debian::fetch(&names).context("could not fetch the Debian packages of the initramfs")?;
    let debian: Vec<(PathBuf, &[&str])> = debian_packages
        .iter()
        .zip(initramfs::DEBIAN_FILES)
        .map(|(unpacked, (_, files))| (unpacked.root.clone(), *files))
        .collect();
    for package in &unpacked {
        println!("debian: {} {}", package.package, package.version);
    }
    let mut programs = user_build::build_user_programs()?;
    // The loader's ELF fixtures (static-pie, unaligned .data, shared pages) run as
    // programs too, so their layouts are checked against Linux, not just parsed.
    let fixtures = shell::repo_root().join("crates/loader/tests/fixtures");
    for name in ["static_pie.elf", "data_bss.elf"] {
        programs.push(fixtures.join(name));
    }
    let mut tests: Vec<(&str, &str)> = crate::user_tests::all().map(|test| (test.name, test.command)).collect();
    tests.extend_from_slice(crate::bench::INITRAMFS_BENCHMARKS);
    tests.extend_from_slice(crate::disk_tests::INITRAMFS_SCRIPTS);
    let disk_benchmarks = crate::bench_disk::initramfs_scripts();
    tests.extend(disk_benchmarks.iter().map(|(name, script)| (*name, script.as_str())));
    initramfs::assemble(&initramfs::Contents {
        busybox_root: &unpacked[0].root,
        debian: &debian,
        programs: &programs,
        tests: &tests,
    })
}

/// Fetches Debian's kernel; returns the bootable image.
pub fn prepare_linux() -> Result<PathBuf> {
    let linux = debian::linux_kernel()
        .context("could not fetch Debian's Linux kernel (linux-image-riscv64)")?;
    println!(
        "debian: {} {} ({})",
        linux.package.package,
        linux.package.version,
        display_path(&linux.image)
    );
    Ok(linux.image)
}

/// The QEMU command booting `kernel` with the initramfs for `test`.
fn boot_command(kernel: &Path, initramfs: &Path, test: &UserTest) -> std::process::Command {
    let append = append(test.name);
    let boot = Boot {
        kernel,
        smp: if test.harts == 0 { user_test_smp() } else { test.harts },
        append: &append,
        console: Console::Headless,
        wait_for_gdb: false,
        initrd: Some(initramfs),
    };
    boot.command()
}

/// Boots `kernel` for `test`, keeping the log as `target/user-tests/NAME-WHICH.log`.
fn boot(
    which: &str,
    kernel: &Path,
    initramfs: &Path,
    test: &UserTest,
) -> Result<(Captured, PathBuf)> {
    let command = boot_command(kernel, initramfs, test);
    let command_line = shell::render(&command);
    let run = qemu::run_captured(command, test.timeout)?;
    let log = shell::target_dir()
        .join("user-tests")
        .join(format!("{}-{which}.log", test.name));
    if let Some(parent) = log.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(
        &log,
        format!(
            "$ {command_line}\nending: {:?} after {:.3} s\n--- serial output ---\n{}\n--- qemu stderr ---\n{}",
            run.ending,
            run.elapsed.as_secs_f64(),
            run.stdout,
            run.stderr
        ),
    )?;
    Ok((run, log))
}

/// Why a run produced no section (adds the ending when it was not a clean exit).
fn with_ending(reason: String, run: &Captured, timeout_seconds: u64) -> String {
    match run.ending {
        Ending::TimedOut => format!("{reason}; timed out after {timeout_seconds} s"),
        Ending::Signaled(signal) => format!("{reason}; QEMU killed by signal {signal}"),
        Ending::Exited(code) if code != 0 => format!("{reason}; QEMU exit status {code}"),
        Ending::Exited(_) => reason,
    }
}

/// `cargo xtask test-linux`: each selected test on Linux, its output shown.
pub fn test_linux(filter: Option<&str>) -> Result<Counts> {
    let tests = crate::user_tests::select(filter);
    anyhow::ensure!(!tests.is_empty(), "no user test matches the filter");
    let image = prepare_linux()?;
    let initramfs = prepare_initramfs()?;
    let mut counts = Counts::default();
    for test in tests {
        let (run, log) = boot("linux", &image, &initramfs, test)?;
        match check_reference(test, &run.stdout) {
            Ok(section) => {
                counts.passed += 1;
                println!(
                    "linux {} ... ok ({:.1} s)",
                    test.name,
                    run.elapsed.as_secs_f64()
                );
                print!("{}", indent(&section.body));
                println!("    (exit {})", section.status);
            }
            Err(reason) => {
                counts.failed += 1;
                println!(
                    "linux {} ... FAILED: {}",
                    test.name,
                    with_ending(reason, &run, test.timeout.as_secs())
                );
                print!("{}", indent(&tail(&run.stdout, 40)));
                println!("    full log: {}", display_path(&log));
            }
        }
    }
    Ok(counts)
}

/// The user layer of `cargo xtask test`: every selected test on Linux and on coros.
pub fn run_layer(filter: Option<&str>, jobs: usize, kernel: &Path) -> Counts {
    let tests = crate::user_tests::select(filter);
    let failed_all = |why: String| {
        println!("user: FAILED: {why}");
        println!("user: {} not run, counted as failed", count(tests.len()));
        Counts {
            failed: tests.len(),
            ..Counts::default()
        }
    };
    let prepared = prepare_linux().and_then(|image| Ok((image, prepare_initramfs()?)));
    let (image, initramfs) = match prepared {
        Ok(prepared) => prepared,
        Err(error) => return failed_all(format!("{error:#}")),
    };
    let mut counts = Counts::default();
    // Does coros run /init at all? The first test's coros boot tells.
    let mut remaining: &[&UserTest] = &tests;
    let mut coros_has_user_space = true;
    if let Some((first, rest)) = tests.split_first() {
        let coros_run = boot("coros", kernel, &initramfs, first);
        let printed_up = coros_run
            .as_ref()
            .is_ok_and(|(run, _)| run.stdout.contains(INIT_UP_LINE));
        if !printed_up && !REQUIRE_COROS_USER_SPACE {
            coros_has_user_space = false;
            let how = match &coros_run {
                Ok((run, _)) => format!(
                    "/init printed nothing; coros ended {:?} after {:.1} s",
                    run.ending,
                    run.elapsed.as_secs_f64()
                ),
                Err(error) => format!("{error:#}"),
            };
            println!(
                "user: coros has no user space yet ({how}): the coros side of each test is skipped"
            );
        }
        let verdict = run_one(
            first,
            &image,
            &initramfs,
            kernel,
            coros_has_user_space,
            Some(coros_run),
        );
        add(&mut counts, verdict);
        remaining = rest;
    }
    let jobs = jobs.clamp(1, remaining.len().max(1));
    let next = AtomicUsize::new(0);
    let shared = Mutex::new(counts);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(test) = remaining.get(index) else {
                    break;
                };
                let verdict = run_one(test, &image, &initramfs, kernel, coros_has_user_space, None);
                add(&mut shared.lock().unwrap(), verdict);
            });
        }
    });
    shared.into_inner().unwrap()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Passed,
    Failed,
    Skipped,
}

fn add(counts: &mut Counts, verdict: Verdict) {
    match verdict {
        Verdict::Passed => counts.passed += 1,
        Verdict::Failed => counts.failed += 1,
        Verdict::Skipped => counts.skipped += 1,
    }
}

/// One test: Linux's run (the reference), then coros' (unless skipped); prints the
/// result line, and on failure what differs.
fn run_one(
    test: &UserTest,
    image: &Path,
    initramfs: &Path,
    kernel: &Path,
    coros_has_user_space: bool,
    coros_run: Option<Result<(Captured, PathBuf)>>,
) -> Verdict {
    let mut report = String::new();
    let verdict = judge(
        test,
        image,
        initramfs,
        kernel,
        coros_has_user_space,
        coros_run,
        &mut report,
    );
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(report.as_bytes());
    let _ = out.flush();
    verdict
}

fn judge(
    test: &UserTest,
    image: &Path,
    initramfs: &Path,
    kernel: &Path,
    coros_has_user_space: bool,
    coros_run: Option<Result<(Captured, PathBuf)>>,
    report: &mut String,
) -> Verdict {
    let name = test.name;
    let linux = match boot("linux", image, initramfs, test) {
        Ok(linux) => linux,
        Err(error) => {
            report.push_str(&format!(
                "user {name} ... FAILED: Linux did not boot: {error:#}\n"
            ));
            return Verdict::Failed;
        }
    };
    let reference = match check_reference(test, &linux.0.stdout) {
        Ok(section) => section,
        Err(reason) => {
            let reason = with_ending(reason, &linux.0, test.timeout.as_secs());
            report.push_str(&format!(
                "user {name} ... FAILED: the Linux reference run: {reason}\n"
            ));
            report.push_str(&indent(&tail(&linux.0.stdout, 40)));
            report.push_str(&format!("    full log: {}\n", display_path(&linux.1)));
            return Verdict::Failed;
        }
    };
    let linux_time = linux.0.elapsed.as_secs_f64();
    if !coros_has_user_space {
        report.push_str(&format!(
            "user {name} ... skipped (coros has no user space yet); linux ok ({linux_time:.1} s)\n"
        ));
        return Verdict::Skipped;
    }
    let coros = match coros_run.unwrap_or_else(|| boot("coros", kernel, initramfs, test)) {
        Ok(coros) => coros,
        Err(error) => {
            report.push_str(&format!(
                "user {name} ... FAILED: coros did not boot: {error:#}\n"
            ));
            return Verdict::Failed;
        }
    };
    let coros_section = extract_section(&coros.0.stdout, name)
        .map_err(|reason| with_ending(reason, &coros.0, test.timeout.as_secs()));
    let gap_note = match &coros_section {
        Ok(section) if !test.known_gaps.is_empty() => {
            if compare(&reference, section).is_ok() {
                format!("; its known gap is closed: remove `known_gaps` ({})", test.gap_reason)
            } else {
                format!("; known gap left out of the comparison: {}", test.gap_reason)
            }
        }
        _ => String::new(),
    };
    let outcome = coros_section.and_then(|section| compare(&test.without_gaps(&reference), &test.without_gaps(&section)));
    match outcome {
        Ok(()) => {
            report.push_str(&format!(
                "user {name} ... ok (linux {linux_time:.1} s, coros {:.1} s{gap_note})\n",
                coros.0.elapsed.as_secs_f64()
            ));
            Verdict::Passed
        }
        Err(reason) => {
            let first_line = reason.lines().next().unwrap_or("").to_string();
            report.push_str(&format!("user {name} ... FAILED: {first_line}\n"));
            if reason.contains("output differs") {
                report.push_str(&indent(&reason));
            } else {
                report.push_str("    --- coros serial output (tail) ---\n");
                report.push_str(&indent(&tail(&coros.0.stdout, 40)));
                report.push_str("    --- Linux section (reference) ---\n");
                report.push_str(&indent(&reference.body));
            }
            report.push_str(&format!(
                "    logs: {} {}\n",
                display_path(&coros.1),
                display_path(&linux.1)
            ));
            Verdict::Failed
        }
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("    | {}\n", line.trim_end_matches('\r')))
        .collect()
}

/// The last `count` lines of `text`.
fn tail(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(count);
    lines[start..]
        .iter()
        .map(|line| format!("{line}\n"))
        .collect()
}

fn count(tests: usize) -> String {
    if tests == 1 {
        "1 test".into()
    } else {
        format!("{tests} tests")
    }
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
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc\n");
        assert_eq!(tail("a\r\nb\nc", 2), "b\nc\n");
        assert_eq!(tail("a\nb\n", 5), "a\nb\n");
    }

    #[test]
    fn user_test_command_line_has_the_initrd() {
        let test = &crate::user_tests::USER_TESTS[0];
        let command = boot_command(Path::new("k"), Path::new("i.cpio"), test);
        let line = shell::render(&command);
        assert!(
            line.contains(" -kernel k -initrd i.cpio -append "),
            "{line}"
        );
        assert!(
            line.contains(&format!("coros_test={}", test.name)),
            "{line}"
        );
    }
}
