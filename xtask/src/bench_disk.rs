//! The disk part of `make bench`: ext4 on virtio-blk, coros vs Linux 6.12 on the same
//! QEMU, the same initramfs and a fresh, identical image per boot.
//!
//! Each boot attaches one image the host has just made with `mke2fs` (1 GiB, ext4, 4 KiB
//! blocks, inode tables and journal written out at once — `lazy_itable_init=0,
//! lazy_journal_init=0` — so that Linux's background `ext4lazyinit` does not write
//! during the measurement) as `/dev/vda`, with the drive flags of `qemu::add_drives`.
//! The initramfs is the disk variant (`user_harness::prepare_disk_initramfs`: the test
//! archive plus the Linux modules virtio_mmio, virtio_blk, ext4 and what they need); the
//! script `bench-disk*` loads the modules when the kernel lacks ext4 (Linux) and runs
//! `user/bench-disk`, which does the measuring (sequential write + fsync, cold
//! sequential read, cold random 4 KiB reads, creating and deleting small files) and
//! prints `bench` lines. Plain TCG only: under `-icount` the guest's wait for the disk
//! is time QEMU skips to the next timer, which says nothing about the disk path. Per
//! repetition the two kernels boot back to back in alternating order; after each boot
//! the host checks the image with `e2fsck -fn`.
//!
//! Results: a table, `bench/results/<date>-<commit>-disk.json` and an SVG of the time
//! figures (`bench_results`, `bench_svg`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::bench_results::{date_of, parse_figures, Kernel, Mode, ModeResults, Results, Unit};
use crate::qemu::{self, run_captured, Boot, Captured, Console, Drive, Ending};
use crate::shell;

/// Size of every benchmark image.
pub const IMAGE_MIB: u64 = 1024;

/// The figures `user/bench-disk` reports on both kernels (time per operation).
pub const DISK_METRICS: &[&str] = &["disk-seq-write", "disk-seq-read", "disk-rand-read-4k", "disk-create", "disk-delete"];

/// How much each boot does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskScale {
    /// 256 MiB file, 10,000 files, 2,000 random reads (the figures).
    Full,
    /// 16 MiB, 500 files, 200 reads: the CI smoke.
    Tiny,
}

impl DiskScale {
    pub fn script(self) -> &'static str {
        match self {
            DiskScale::Full => "bench-disk",
            DiskScale::Tiny => "bench-disk-tiny",
        }
    }

    fn key(self) -> &'static str {
        match self {
            DiskScale::Full => "full",
            DiskScale::Tiny => "tiny",
        }
    }
}

/// The initramfs scripts of the disk benchmark (`coros_test=NAME`).
pub fn initramfs_scripts() -> Vec<(&'static str, String)> {
    let load = crate::linux_modules::LOAD_LINE;
    vec![
        ("bench-disk", format!("{load}/usr/bin/bench-disk file_mib=256 files=10000 reads=2000")),
        ("bench-disk-tiny", format!("{load}/usr/bin/bench-disk file_mib=16 files=500 reads=200")),
    ]
}

/// The kernel command line of a disk benchmark boot (the same for both kernels).
pub fn append(script: &str) -> String {
    format!("console=ttyS0 rdinit=/init quiet {}={script}", crate::initramfs::TEST_VARIABLE)
}

/// What one disk suite run does.
#[derive(Debug, Clone)]
pub struct DiskOptions {
    pub repetitions: usize,
    pub scale: DiskScale,
    pub out_dir: PathBuf,
    pub command: String,
}

/// A finished run.
pub struct DiskWritten {
    pub results: Results,
    pub json: PathBuf,
    pub svg: PathBuf,
}

/// Makes a fresh benchmark image at `path`.
pub fn fresh_image(path: &Path) -> Result<()> {
    let _ = std::fs::remove_file(path);
    let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    file.set_len(IMAGE_MIB << 20)?;
    drop(file);
    let mke2fs = if Path::new("/usr/sbin/mke2fs").exists() { "/usr/sbin/mke2fs" } else { "mke2fs" };
    let output = std::process::Command::new(mke2fs)
        .args(["-q", "-F", "-t", "ext4", "-b", "4096", "-E", "root_owner=0:0,lazy_itable_init=0,lazy_journal_init=0"])
        .arg(path)
        .output()
        .context("running mke2fs (package e2fsprogs)")?;
    anyhow::ensure!(output.status.success(), "mke2fs failed: {}", String::from_utf8_lossy(&output.stderr));
    Ok(())
}

/// Boots `kernel` with a fresh image for `script`; the log goes to `target/bench-logs/`.
fn boot(kernel: &Path, which: &str, initramfs: &Path, scale: DiskScale, repetition: usize) -> Result<(Captured, PathBuf, PathBuf)> {
    let dir = shell::target_dir().join("bench-disk");
    std::fs::create_dir_all(&dir)?;
    let image = dir.join(format!("{which}.img"));
    fresh_image(&image)?;
    let append = append(scale.script());
    let boot = Boot { kernel, smp: 1, append: &append, console: Console::Headless, wait_for_gdb: false, initrd: Some(initramfs) };
    let mut command = boot.command();
    qemu::add_drives(&mut command, &[Drive { path: image.clone(), read_only: false }]);
    let line = shell::render(&command);
    print!("bench: {which} {} -smp 1 (wall) ... ", scale.script());
    let _ = std::io::Write::flush(&mut std::io::stdout());
    let timeout = match scale {
        DiskScale::Full => Duration::from_secs(1200),
        DiskScale::Tiny => Duration::from_secs(240),
    };
    let run = run_captured(command, timeout)?;
    println!("{:.1} s", run.elapsed.as_secs_f64());
    let log = shell::target_dir().join("bench-logs").join(format!("{}-{which}-smp1-wall-{repetition}.log", scale.script()));
    std::fs::create_dir_all(log.parent().expect("has a parent"))?;
    std::fs::write(&log, format!("$ {line}\nending: {:?} after {:.3} s\n--- serial ---\n{}\n--- stderr ---\n{}", run.ending, run.elapsed.as_secs_f64(), run.stdout, run.stderr))?;
    Ok((run, log, image))
}

/// Runs the disk suite and writes its JSON and SVG.
pub fn run(options: &DiskOptions) -> Result<DiskWritten> {
    let linux = crate::debian::linux_kernel().context("could not fetch Debian's Linux kernel (linux-image-riscv64)")?;
    let initramfs = crate::user_harness::prepare_disk_initramfs(&linux)?;
    let coros = crate::kernel_build::build_kernel()?;
    let commit = crate::bench_suite::commit();
    let mut results = Results {
        date: date_of(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs()),
        commit: commit.clone(),
        command: options.command.clone(),
        qemu_version: crate::bench_suite::qemu_version(),
        coros_version: format!("coros {} ({commit})", env!("CARGO_PKG_VERSION")),
        linux_version: format!("{} {}", linux.package.package, linux.package.version),
        repetitions: options.repetitions,
        scale: options.scale.key().to_string(),
        modes: vec![ModeResults::new(Mode::Wall)],
        failures: Vec::new(),
    };
    let kernels = [(Kernel::Coros, coros.as_path()), (Kernel::Linux, linux.image.as_path())];
    for repetition in 0..options.repetitions {
        let mut order = kernels;
        if repetition % 2 == 1 {
            order.reverse();
        }
        for (kernel, image) in order {
            let what = format!("{} {} (repetition {})", kernel.name(), options.scale.script(), repetition + 1);
            match boot(image, kernel.name(), &initramfs, options.scale, repetition) {
                Ok((run, log, disk)) => {
                    let finished = run.stdout.contains("bench done") && run.ending == Ending::Exited(0);
                    if !finished {
                        let last = run.stdout.lines().rev().find(|line| line.starts_with("bench")).unwrap_or("(no figure)");
                        results.failures.push(format!("{what}: {:?} after {:.0} s without `bench done`; last line `{}`; log {}", run.ending, run.elapsed.as_secs_f64(), last.trim(), log.display()));
                        println!("bench: {}", results.failures.last().expect("just pushed"));
                    } else if let Err(report) = fsck(&disk) {
                        results.failures.push(format!("{what}: e2fsck -fn found errors in the image afterwards:\n{report}"));
                    }
                    results.modes[0].record(repetition, kernel, &parse_figures(&run.stdout));
                }
                Err(error) => results.failures.push(format!("{what}: {error:#}")),
            }
        }
    }
    std::fs::create_dir_all(&options.out_dir)?;
    let stem = format!("{}-{}-disk", results.date, results.commit);
    let json = options.out_dir.join(format!("{stem}.json"));
    let svg = options.out_dir.join(format!("{stem}.svg"));
    std::fs::write(&json, serde_json::to_string_pretty(&results.to_json())? + "\n").with_context(|| format!("writing {}", json.display()))?;
    // The chart shows the time figures; the counts are in the table and the JSON.
    let mut timed = results.clone();
    timed.modes[0].metrics.retain(|metric| metric.unit == Unit::Nanoseconds);
    std::fs::write(&svg, crate::bench_svg::chart(&timed)).with_context(|| format!("writing {}", svg.display()))?;
    Ok(DiskWritten { results, json, svg })
}

/// `e2fsck -fn` of the image.
fn fsck(image: &Path) -> Result<(), String> {
    let output = std::process::Command::new("/usr/sbin/e2fsck").arg("-fn").arg(image).output().map_err(|error| error.to_string())?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)))
    }
}

/// Throughput and per-operation lines for the terminal: MiB/s for the sequential
/// figures, µs per operation for the others, per kernel.
pub fn summary(results: &Results) -> String {
    let mut out = String::from("\ndisk, plain TCG wall time (guest CLOCK_MONOTONIC), median:\n");
    let Some(mode) = results.modes.first() else { return out };
    for name in DISK_METRICS {
        let Some(metric) = mode.metric(name) else {
            out += &format!("  {name:<20} missing\n");
            continue;
        };
        let show = |kernel: Kernel| match metric.median(kernel) {
            None => "missing".to_string(),
            Some(ns) if name.starts_with("disk-seq") => format!("{:.1} MiB/s", 1e9 / ns),
            Some(ns) => format!("{:.0} µs/op", ns / 1e3),
        };
        out += &format!("  {name:<20} coros {:>14}   Linux {:>14}\n", show(Kernel::Coros), show(Kernel::Linux));
    }
    out
}

/// The `make test` smoke: one tiny repetition; every figure from both kernels, clean
/// images. `Err` says what is wrong.
pub fn smoke() -> Result<(), String> {
    let out_dir = std::env::temp_dir().join(format!("coros-bench-disk-smoke-{}", std::process::id()));
    let options = DiskOptions { repetitions: 1, scale: DiskScale::Tiny, out_dir: out_dir.clone(), command: "cargo xtask test --only bench (disk smoke)".into() };
    let written = run(&options).map_err(|error| format!("{error:#}"))?;
    let mut problems: Vec<String> = written.results.failures.clone();
    for name in DISK_METRICS {
        let metric = written.results.modes[0].metric(name);
        for kernel in [Kernel::Coros, Kernel::Linux] {
            if metric.and_then(|metric| metric.median(kernel)).is_none() {
                problems.push(format!("`{name}` missing on {}", kernel.name()));
            }
            let requests = written.results.modes[0].metric(&format!("{name}-requests"));
            if requests.and_then(|metric| metric.median(kernel)).is_none_or(|count| count < 1.0) {
                problems.push(format!("`{name}-requests` missing or zero on {}", kernel.name()));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&out_dir);
    if problems.is_empty() { Ok(()) } else { Err(problems.join("\n")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_load_modules_then_run_the_program() {
        let scripts = initramfs_scripts();
        for scale in [DiskScale::Full, DiskScale::Tiny] {
            let (_, script) = scripts.iter().find(|(name, _)| *name == scale.script()).expect("every scale has a script");
            assert!(script.starts_with(crate::linux_modules::LOAD_LINE));
            assert!(script.contains("/usr/bin/bench-disk file_mib="));
        }
        assert!(scripts[0].1.ends_with("file_mib=256 files=10000 reads=2000"));
        assert_eq!(append("bench-disk"), "console=ttyS0 rdinit=/init quiet coros_test=bench-disk");
    }

    #[test]
    fn summary_in_mib_per_second_and_microseconds() {
        let mut mode = ModeResults::new(Mode::Wall);
        let figures = parse_figures("bench disk-seq-write: ops=256 ns=2560000000\nbench disk-create: ops=100 ns=50000000\n");
        mode.record(0, Kernel::Coros, &figures);
        let results = Results {
            date: String::new(),
            commit: String::new(),
            command: String::new(),
            qemu_version: String::new(),
            coros_version: String::new(),
            linux_version: String::new(),
            repetitions: 1,
            scale: "tiny".into(),
            modes: vec![mode],
            failures: Vec::new(),
        };
        let text = summary(&results);
        assert!(text.contains("disk-seq-write       coros    100.0 MiB/s   Linux        missing"), "{text}");
        assert!(text.contains("disk-create          coros      500 µs/op   Linux"), "{text}");
        assert!(text.contains("disk-delete          missing"), "{text}");
    }
}
