//! The disk layer of `xtask test`: boots with disk images the host prepared and checks
//! the images on the host afterwards (what the guest wrote must be there after power-off).
//!
//! Each test makes its images under `target/disk-tests/NAME/`, boots coros with them
//! attached as virtio-blk disks, expects the guest's verdict on the serial line, and
//! then inspects the images (raw bytes; for ext4, `e2fsck -fn` and `debugfs`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::qemu::{self, Boot, Console, Drive, Ending};
use crate::shell;

/// One disk test.
pub struct DiskTest {
    pub name: &'static str,
    pub run: fn(&Path, &Path) -> Result<(), String>,
}

/// Every disk test.
pub const DISK_TESTS: &[DiskTest] = &[DiskTest { name: "virtio-blk", run: virtio_blk }];

/// Where a test keeps its images.
fn work_dir(name: &str) -> Result<PathBuf> {
    let dir = shell::repo_root().join("target/disk-tests").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// An image of `sectors` sectors, each holding its own number as 64 little-endian words.
fn pattern_image(path: &Path, sectors: u64) -> Result<()> {
    let mut data = Vec::with_capacity(sectors as usize * 512);
    for sector in 0..sectors {
        for _ in 0..64 {
            data.extend_from_slice(&sector.to_le_bytes());
        }
    }
    std::fs::write(path, data).with_context(|| format!("writing {}", path.display()))
}

/// Boots `kernel` with `append` and `drives`; the serial output, if QEMU powered off
/// with status 0 within `timeout`.
pub fn boot_with_drives(kernel: &Path, initrd: Option<&Path>, append: &str, drives: &[Drive], smp: usize, timeout: Duration) -> Result<String, String> {
    let boot = Boot { kernel, smp, append, console: Console::Headless, wait_for_gdb: false, initrd };
    let mut command = boot.command();
    qemu::add_drives(&mut command, drives);
    let line = shell::render(&command);
    let run = qemu::run_captured(command, timeout).map_err(|error| format!("{error:#}"))?;
    match run.ending {
        Ending::Exited(0) => Ok(run.stdout),
        ending => Err(format!("{ending:?} after {:.1} s\n    $ {line}\n{}", run.elapsed.as_secs_f64(), tail(&run.stdout, 30))),
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].iter().map(|line| format!("    | {}\n", line.trim_end())).collect()
}

/// Runs the tests matching `filter`; (passed, failed).
pub fn run_layer(filter: Option<&str>, kernel: &Path, initramfs: &Path) -> (usize, usize) {
    let (mut passed, mut failed) = (0, 0);
    for test in DISK_TESTS.iter().filter(|test| filter.is_none_or(|filter| test.name.contains(filter))) {
        let started = std::time::Instant::now();
        match (test.run)(kernel, initramfs) {
            Ok(()) => {
                passed += 1;
                println!("disk {} ... ok ({:.1} s)", test.name, started.elapsed().as_secs_f64());
            }
            Err(reason) => {
                failed += 1;
                println!("disk {} ... FAILED: {reason}", test.name);
            }
        }
    }
    (passed, failed)
}

/// How many disk tests match `filter`.
pub fn selected(filter: Option<&str>) -> usize {
    DISK_TESTS.iter().filter(|test| filter.is_none_or(|filter| test.name.contains(filter))).count()
}

/// The driver, cache and coroutine self-test (`kernel/src/selftest_disk.rs`), then the
/// rewritten sectors checked in the image on the host.
fn virtio_blk(kernel: &Path, _initramfs: &Path) -> Result<(), String> {
    let dir = work_dir("virtio-blk").map_err(|error| format!("{error:#}"))?;
    let sectors = 16 * 2048; // 16 MiB
    let (vda, vdb) = (dir.join("vda.img"), dir.join("vdb.img"));
    pattern_image(&vda, sectors).map_err(|error| format!("{error:#}"))?;
    pattern_image(&vdb, sectors / 2).map_err(|error| format!("{error:#}"))?;
    let drives = [Drive { path: vda.clone(), read_only: false }, Drive { path: vdb.clone(), read_only: true }];
    for smp in [1, 4] {
        pattern_image(&vda, sectors).map_err(|error| format!("{error:#}"))?;
        let output = boot_with_drives(kernel, None, "test=virtio-blk", &drives, smp, Duration::from_secs(90))?;
        if !output.contains("test virtio-blk ... ok") {
            return Err(format!("smp={smp}: no verdict\n{}", tail(&output, 30)));
        }
        let image = std::fs::read(&vda).map_err(|error| error.to_string())?;
        for sector in 0..sectors {
            let block = sector / 8;
            let rewritten = (64..64 + 256).contains(&block);
            let expected = if rewritten { !sector } else { sector };
            let offset = sector as usize * 512;
            let word = u64::from_le_bytes(image[offset..offset + 8].try_into().unwrap());
            if word != expected {
                return Err(format!("smp={smp}: sector {sector} holds {word:#x} on the host, expected {expected:#x}"));
            }
        }
        let untouched = std::fs::read(&vdb).map_err(|error| error.to_string())?;
        if untouched[8 * 512..8 * 512 + 8] != 8u64.to_le_bytes() {
            return Err("the read-only disk was changed".into());
        }
    }
    Ok(())
}
