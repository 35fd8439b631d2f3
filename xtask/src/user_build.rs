//! Building the project's user programs (`user/`, a cargo workspace of its own) for
//! riscv64 Linux: static glibc binaries that run unchanged on coros and on Linux.
//!
//! Why a separate workspace: the root workspace's host `cargo test` must never try to
//! build riscv64 Linux programs. The linker (`riscv64-linux-gnu-gcc`) and
//! `-C target-feature=+crt-static` come from the root `.cargo/config.toml`; the target
//! directory is `target/user/` so everything stays under `target/`.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::shell;

/// The Rust target of user programs.
pub const USER_TARGET: &str = "riscv64gc-unknown-linux-gnu";
/// The user programs: each is a member of `user/Cargo.toml` with one binary of the same
/// name, installed as `/usr/bin/<name>` in the initramfs.
pub const USER_PROGRAMS: &[&str] = &[
    "coros-hello",
    "syscall-smoke",
    "abi-files",
    "abi-process",
    "abi-signals",
    "abi-memory",
    "abi-mmap-file",
    "abi-time",
    "abi-threads",
    "abi-pipes-poll",
    "abi-stress",
    "bench-syscalls",
    "bench-disk",
    "data-pipe",
];

/// Builds every user program; returns their paths.
pub fn build_user_programs() -> Result<Vec<PathBuf>> {
    let root = shell::repo_root();
    let target_dir = shell::target_dir().join("user");
    let mut command = shell::cargo();
    command
        .env("CARGO_TARGET_DIR", &target_dir)
        .args([
            "build",
            "--release",
            "--target",
            USER_TARGET,
            "--manifest-path",
        ])
        .arg(root.join("user").join("Cargo.toml"));
    shell::run_checked(&mut command).context("the user programs failed to build")?;
    let release = target_dir.join(USER_TARGET).join("release");
    USER_PROGRAMS
        .iter()
        .map(|name| {
            let path = release.join(name);
            anyhow::ensure!(path.is_file(), "{} was not built", path.display());
            Ok(path)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_program_is_a_workspace_member() {
        let user = shell::repo_root().join("user");
        let manifest = std::fs::read_to_string(user.join("Cargo.toml")).unwrap();
        let members_line = manifest
            .lines()
            .find(|line| line.trim_start().starts_with("members"))
            .expect("user/Cargo.toml lists its members on one line");
        for program in USER_PROGRAMS {
            assert!(
                members_line.contains(&format!("\"{program}\"")),
                "{program} not a member"
            );
            let package = std::fs::read_to_string(user.join(program).join("Cargo.toml")).unwrap();
            assert!(package.contains(&format!("name = \"{program}\"")));
        }
        let listed = members_line.matches('"').count() / 2;
        assert_eq!(
            listed,
            USER_PROGRAMS.len(),
            "a member is missing from USER_PROGRAMS"
        );
    }
}
