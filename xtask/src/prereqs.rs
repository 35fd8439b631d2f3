//! Prerequisite checks: the Rust targets and the Debian packages coros needs on the host.
//!
//! Why: a fresh machine should go from clone to `make test` with no manual setup, and a
//! machine that has everything should pay almost nothing (one `rustup target list` and a
//! few file lookups; apt-get only runs when something is missing). Rust targets are added
//! with `rustup target add` (no root needed). Missing Debian packages are installed with
//! apt-get when we are root; otherwise we print the exact `sudo apt-get install` command
//! and stop, because silently half-working tooling is worse than a clear request.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::shell;

/// The Rust targets coros builds for: the kernel, and static Linux user programs.
pub const RUST_TARGETS: &[&str] = &["riscv64gc-unknown-none-elf", "riscv64gc-unknown-linux-gnu"];

/// How we tell whether a Debian package is installed without asking apt.
#[derive(Debug, Clone, Copy)]
pub enum Probe {
    /// A program the package puts on `PATH`.
    Binary(&'static str),
    /// A file the package installs.
    File(&'static str),
    /// Ask dpkg (`dpkg-query -W`); for packages with no single telling file.
    Dpkg,
}

/// A Debian package and the evidence that it is installed.
#[derive(Debug, Clone, Copy)]
pub struct Package {
    pub name: &'static str,
    pub probe: Probe,
    /// Why coros needs it (printed when it is missing).
    pub purpose: &'static str,
}

/// Packages every build/run/test needs.
pub const BASE_PACKAGES: &[Package] = &[
    Package {
        name: "qemu-system-misc",
        probe: Probe::Binary("qemu-system-riscv64"),
        purpose: "QEMU for riscv64 (`qemu-system-riscv64`)",
    },
    // QEMU's `-bios default` on riscv64 loads this OpenSBI image from QEMU's data
    // directory; on Debian bookworm it ships in qemu-system-data (a dependency of
    // qemu-system-misc, but checked on its own so a broken install is named precisely).
    Package {
        name: "qemu-system-data",
        probe: Probe::File("/usr/share/qemu/opensbi-riscv64-generic-fw_dynamic.bin"),
        purpose: "OpenSBI firmware for `-bios default`",
    },
    Package {
        name: "gcc-riscv64-linux-gnu",
        probe: Probe::Binary("riscv64-linux-gnu-gcc"),
        purpose: "linker for riscv64 Linux user programs",
    },
    Package {
        name: "libc6-dev-riscv64-cross",
        probe: Probe::Dpkg,
        purpose: "static glibc for riscv64 Linux user programs",
    },
    // The user-level tests fetch Debian's riscv64 busybox and Linux kernel with a private
    // apt configuration and unpack them with `dpkg -x` (xtask/src/debian.rs). Debian's
    // riscv64 kernel is an uncompressed Image, so no gzip/zstd tool is needed; its
    // modules are `.ko.xz` (see xz-utils below).
    Package {
        name: "apt",
        probe: Probe::Binary("apt-get"),
        purpose: "downloading Debian riscv64 packages for the initramfs and the Linux oracle",
    },
    Package {
        name: "dpkg",
        probe: Probe::Binary("dpkg-deb"),
        purpose: "unpacking Debian riscv64 packages (`dpkg -x`)",
    },
    // The disk images of the disk tests and benchmarks (`mke2fs`, `e2fsck`, `debugfs`).
    Package {
        name: "e2fsprogs",
        probe: Probe::File("/usr/sbin/mke2fs"),
        purpose: "making and checking the ext4 disk images (mke2fs, e2fsck, debugfs)",
    },
    // Linux's virtio-blk and ext4 modules (`.ko.xz`) for the disk oracle and benchmark.
    Package {
        name: "xz-utils",
        probe: Probe::Binary("xz"),
        purpose: "decompressing Linux's kernel modules for the disk oracle (`xz -d`)",
    },
];

/// Packages only `debug` needs.
pub const DEBUGGER_PACKAGES: &[Package] = &[Package {
    name: "gdb-multiarch",
    probe: Probe::Binary("gdb-multiarch"),
    purpose: "debugger for `make debug`",
}];

/// Which tools a subcommand needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Build, run and test.
    Base,
    /// Everything, including the debugger (`debug` and `prereqs`).
    WithDebugger,
}

/// Checks (and where possible installs) everything `need` asks for.
/// `verbose` prints a line even when nothing is missing.
pub fn ensure(need: Need, verbose: bool) -> Result<()> {
    ensure_rust_targets(verbose)?;
    let mut packages: Vec<&Package> = BASE_PACKAGES.iter().collect();
    if need == Need::WithDebugger {
        packages.extend(DEBUGGER_PACKAGES);
    }
    ensure_packages(&packages, verbose)
}

fn ensure_rust_targets(verbose: bool) -> Result<()> {
    let output = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context(
            "could not run `rustup target list --installed`; install rustup, or add the \
             targets riscv64gc-unknown-none-elf and riscv64gc-unknown-linux-gnu yourself",
        )?;
    anyhow::ensure!(
        output.status.success(),
        "`rustup target list --installed` failed: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let installed = String::from_utf8_lossy(&output.stdout);
    let missing = missing_targets(&installed);
    if missing.is_empty() {
        if verbose {
            println!("prereqs: rust targets present: {}", RUST_TARGETS.join(", "));
        }
        return Ok(());
    }
    shell::run_checked(
        Command::new("rustup")
            .args(["target", "add"])
            .args(&missing),
    )
    .context("could not add the missing rust targets")
}

/// The entries of [`RUST_TARGETS`] absent from `rustup target list --installed` output.
pub fn missing_targets(installed: &str) -> Vec<&'static str> {
    RUST_TARGETS
        .iter()
        .copied()
        .filter(|target| !installed.lines().any(|line| line.trim() == *target))
        .collect()
}

fn ensure_packages(packages: &[&Package], verbose: bool) -> Result<()> {
    let missing = missing_packages(packages);
    if missing.is_empty() {
        if verbose {
            let names: Vec<&str> = packages.iter().map(|p| p.name).collect();
            println!("prereqs: debian packages present: {}", names.join(", "));
        }
        return Ok(());
    }
    for package in &missing {
        println!("prereqs: missing {} ({})", package.name, package.purpose);
    }
    let names: Vec<&str> = missing.iter().map(|p| p.name).collect();
    if !is_root() {
        bail!("{}", install_hint(&names));
    }
    shell::run_checked(Command::new("apt-get").arg("update"))?;
    shell::run_checked(
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y"])
            .args(&names),
    )?;
    let still_missing = missing_packages(packages);
    if !still_missing.is_empty() {
        let names: Vec<&str> = still_missing.iter().map(|p| p.name).collect();
        bail!("still missing after apt-get install: {}", names.join(" "));
    }
    Ok(())
}

/// The packages whose probe fails.
pub fn missing_packages<'a>(packages: &[&'a Package]) -> Vec<&'a Package> {
    packages
        .iter()
        .copied()
        .filter(|package| !is_installed(package))
        .collect()
}

fn is_installed(package: &Package) -> bool {
    match package.probe {
        Probe::Binary(name) => on_path(name),
        Probe::File(path) => Path::new(path).exists(),
        Probe::Dpkg => dpkg_installed(package.name),
    }
}

fn on_path(program: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| dir.join(program).is_file())
}

fn dpkg_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "--showformat=${Status}", package])
        .output()
        .map(|output| {
            output.status.success()
                && String::from_utf8_lossy(&output.stdout).contains("install ok installed")
        })
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
        .unwrap_or(false)
}

/// What to tell a user who is not root about the packages `missing`.
pub fn install_hint(missing: &[&str]) -> String {
    format!(
        "missing Debian packages: {list}\n\
         xtask installs them itself only when run as root; please run:\n\
         \n    sudo apt-get update && sudo apt-get install -y {list}\n",
        list = missing.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_hint_names_the_exact_command() {
        let hint = install_hint(&["qemu-system-misc", "gdb-multiarch"]);
        assert!(hint.contains("sudo apt-get install -y qemu-system-misc gdb-multiarch\n"));
        assert!(hint.starts_with("missing Debian packages: qemu-system-misc gdb-multiarch"));
    }

    #[test]
    fn fake_packages_are_reported_missing() {
        let fakes = [
            Package {
                name: "coros-fake-dpkg",
                probe: Probe::Dpkg,
                purpose: "test",
            },
            Package {
                name: "coros-fake-binary",
                probe: Probe::Binary("coros-no-such-binary"),
                purpose: "test",
            },
            Package {
                name: "coros-fake-file",
                probe: Probe::File("/nonexistent/coros/file"),
                purpose: "test",
            },
        ];
        let present = Package {
            name: "sh",
            probe: Probe::Binary("sh"),
            purpose: "test",
        };
        let all: Vec<&Package> = fakes.iter().chain([&present]).collect();
        let missing: Vec<&str> = missing_packages(&all).iter().map(|p| p.name).collect();
        assert_eq!(
            missing,
            ["coros-fake-dpkg", "coros-fake-binary", "coros-fake-file"]
        );
    }

    #[test]
    fn missing_targets_reads_rustup_output() {
        let installed = "riscv64gc-unknown-none-elf\nx86_64-unknown-linux-gnu\n";
        assert_eq!(missing_targets(installed), ["riscv64gc-unknown-linux-gnu"]);
        let all = "riscv64gc-unknown-linux-gnu\nriscv64gc-unknown-none-elf\n";
        assert!(missing_targets(all).is_empty());
    }
}
