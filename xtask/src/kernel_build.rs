//! Building the kernel image: `cargo build --release -p coros-kernel --target
//! riscv64gc-unknown-none-elf`, then a copy to `target/kernel.elf`.
//!
//! Why a fixed copy: QEMU, gdb and the docs can then name one stable path no matter how
//! cargo lays out its target directory. The kernel crate's own build.rs supplies the
//! linker script and `.cargo/config.toml` the per-target rustflags, so nothing extra is
//! passed here; the target is chosen here (never via `[build] target`, which would break
//! host `cargo test`).

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::shell;

/// The kernel's Rust target.
pub const KERNEL_TARGET: &str = "riscv64gc-unknown-none-elf";
/// The kernel's package (and binary) name.
pub const KERNEL_PACKAGE: &str = "coros-kernel";

/// Where the kernel image is left for QEMU and gdb.
pub fn kernel_elf() -> PathBuf {
    shell::target_dir().join("kernel.elf")
}

/// Builds the kernel and copies it to [`kernel_elf`], returning that path.
pub fn build_kernel() -> Result<PathBuf> {
    shell::run_checked(shell::cargo().args([
        "build",
        "--release",
        "--package",
        KERNEL_PACKAGE,
        "--target",
        KERNEL_TARGET,
    ]))
    .context("the kernel failed to build")?;
    let built = shell::target_dir()
        .join(KERNEL_TARGET)
        .join("release")
        .join(KERNEL_PACKAGE);
    let destination = kernel_elf();
    std::fs::copy(&built, &destination).with_context(|| {
        format!(
            "could not copy {} to {}",
            built.display(),
            destination.display()
        )
    })?;
    Ok(destination)
}
