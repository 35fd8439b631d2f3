//! The disk `make run` attaches: an ext4 image, made with the host's `mke2fs -d`, holding
//! Debian's unmodified riscv64 dash, coreutils, lua5.4, sqlite3 and python3.13 with their
//! libraries under Debian's merged /usr. In the guest: `mount -t ext4 /dev/vda /mnt`,
//! then e.g. `chroot /mnt /bin/dash` (see README).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::{debian, shell};

/// Packages unpacked whole onto the disk (their `Depends`, for what runs here).
pub const PACKAGES: &[&str] = &[
    "libc6",
    "dash",
    "coreutils",
    "libselinux1",
    "libpcre2-8-0",
    "libcap2",
    "libacl1",
    "libattr1",
    "libgmp10",
    "libssl3t64",
    "libzstd1",
    "lua5.4",
    "liblua5.4-0",
    "libreadline8t64",
    "libtinfo6",
    "sqlite3",
    "libsqlite3-0",
    "zlib1g",
    "python3.13-minimal",
    "libpython3.13-minimal",
    "libexpat1",
];

/// Size of the image (it has room to spare for experiments).
const IMAGE_MIB: u64 = 512;

/// Builds `target/run-disk.img` if it is missing; returns its path.
pub fn prepare() -> Result<PathBuf> {
    let image = shell::repo_root().join("target/run-disk.img");
    if image.exists() {
        return Ok(image);
    }
    let unpacked = debian::fetch(PACKAGES).context("could not fetch the Debian packages of the run disk")?;
    let tree = shell::repo_root().join("target/run-disk-tree");
    let _ = std::fs::remove_dir_all(&tree);
    std::fs::create_dir_all(&tree)?;
    for package in &unpacked {
        copy_tree(&package.root, &tree)?;
    }
    // Debian's merged /usr.
    for (link, target) in [("bin", "usr/bin"), ("sbin", "usr/sbin"), ("lib", "usr/lib")] {
        let path = tree.join(link);
        if !path.exists() {
            std::os::unix::fs::symlink(target, &path)?;
        }
    }
    // What Debian's python3-minimal adds: the name users type.
    let python3 = tree.join("usr/bin/python3");
    if !python3.exists() {
        std::os::unix::fs::symlink("python3.13", &python3)?;
    }
    for dir in ["tmp", "proc", "dev", "root", "etc"] {
        std::fs::create_dir_all(tree.join(dir))?;
    }
    std::fs::write(tree.join("root/hello.lua"), "print(('hello from lua on ext4'):upper())\n")?;
    std::fs::write(tree.join("root/hello.py"), "import sys\nprint('hello from python', sys.version.split()[0])\n")?;
    let file = std::fs::File::create(&image)?;
    file.set_len(IMAGE_MIB << 20)?;
    drop(file);
    let mke2fs = if Path::new("/usr/sbin/mke2fs").exists() { "/usr/sbin/mke2fs" } else { "mke2fs" };
    let status = Command::new(mke2fs)
        .args(["-q", "-F", "-t", "ext4", "-b", "4096", "-E", "root_owner=0:0", "-d"])
        .arg(&tree)
        .arg(&image)
        .status()
        .context("running mke2fs (package e2fsprogs)")?;
    if !status.success() {
        let _ = std::fs::remove_file(&image);
        bail!("mke2fs failed ({status})");
    }
    println!("run disk: {} (ext4, {IMAGE_MIB} MiB: dash, coreutils, lua5.4, sqlite3, python3.13)", image.strip_prefix(shell::repo_root()).unwrap_or(&image).display());
    Ok(image)
}

/// `cp -a from/. to/` (symlinks kept).
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    let status = Command::new("cp").arg("-a").arg(format!("{}/.", from.display())).arg(to).status()?;
    if !status.success() {
        bail!("copying {} failed", from.display());
    }
    Ok(())
}
